//! Redis Cluster: redis-rs's cluster connection (routing by slot, MOVED/ASK) wrapped
//! with what the client adds — the slot table it reads itself ([`topology`]), one
//! tracked connection per primary for the client-side cache, per-node counters, and
//! the walks a cluster-wide SCAN needs (CLUSTER SLOTS, GETKEYSINSLOT, and a node's own
//! view of its slots from its CLUSTER NODES).

mod engine;
mod topology;

pub(crate) use engine::{primaries_from, ClusterEngine, NodeView, Primary};
pub(crate) use topology::{key_slot, Node};

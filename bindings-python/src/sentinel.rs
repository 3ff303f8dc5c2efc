//! Sentinel discovery for `redbridge.sentinel.Sentinel` (conversion only): the core
//! asks the sentinels and checks each node's role; this hands back `(host, port)` pairs.

use pyo3::prelude::*;
use redbridge::sentinel::{discover_primary, discover_replicas, Node};
use redbridge::Config;

use crate::error::to_py_err;
use crate::monitor::{config, on_runtime, MonitorWait};

/// What to discover: "primary" (one node, confirmed by its ROLE) or "replicas" (the
/// healthy ones the sentinels list).
async fn discover(config: Config, what: String) -> redbridge::Result<Vec<Node>> {
    match what.as_str() {
        "primary" => discover_primary(&config).await.map(|n| vec![n]),
        "replicas" => discover_replicas(&config).await,
        _ => Err(redbridge::Error::invalid(
            "discover what: \"primary\" or \"replicas\"",
        )),
    }
}

fn nodes(py: Python<'_>, found: Vec<Node>) -> PyResult<Py<PyAny>> {
    Ok(found.into_pyobject(py)?.into_any().unbind())
}

/// The primary or the replicas of the service the options name (`sentinels`,
/// `sentinel_service`, credentials, timeouts), the GIL released while the sentinels
/// are asked.
#[pyfunction]
#[pyo3(signature = (options, what))]
pub fn sentinel_discover(
    py: Python<'_>,
    options: Vec<(String, String)>,
    what: String,
) -> PyResult<Vec<Node>> {
    let config = config(None, &options)?;
    let found = py.detach(|| redbridge::runtime::runtime().block_on(discover(config, what)));
    found.map_err(|e| to_py_err(py, &e))
}

/// [`sentinel_discover`] on the core runtime; settles `fut` with the list.
#[pyfunction]
#[pyo3(signature = (options, what, loop_, fut, settle_fn))]
pub fn sentinel_discover_async(
    options: Vec<(String, String)>,
    what: String,
    loop_: Py<PyAny>,
    fut: Py<PyAny>,
    settle_fn: Py<PyAny>,
) -> PyResult<MonitorWait> {
    let config = config(None, &options)?;
    Ok(on_runtime(
        discover(config, what),
        nodes,
        loop_,
        fut,
        settle_fn,
    ))
}

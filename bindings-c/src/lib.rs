//! C ABI for redbridge. Conversion and mapping only: every policy lives in the core.
//!
//! One module per C object family; [`ffi`] holds the panic boundary, the status codes
//! and the pointer helpers every function goes through.
#![allow(non_camel_case_types)]
// Every exported function checks its pointers itself and documents its contract in
// the generated header; the `unsafe` marker would add nothing a C caller sees.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

pub mod client;
pub mod config;
pub mod ffi;
pub mod observe;
pub mod pipeline;
pub mod pubsub;
pub mod reply;
pub mod scan;
pub mod script;

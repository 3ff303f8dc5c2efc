//! `redbridge_pipeline`: queue commands, send them in one write, read every reply.

use std::ffi::c_char;

use redbridge::{Command, Pipeline, Value};

use crate::client::redbridge_client;
use crate::ffi::{
    arg, arg_mut, argv_slices, boundary, boundary_value, free_box, out_ptr, put, redbridge_status,
};
use crate::reply::{error_reply, redbridge_reply, to_reply};

/// A queue of commands (an opaque handle), optionally a MULTI/EXEC transaction.
pub struct redbridge_pipeline {
    inner: Pipeline,
}

/// A new empty pipeline; `transaction` wraps it in MULTI/EXEC. Free with
/// redbridge_pipeline_free.
#[no_mangle]
pub extern "C" fn redbridge_pipeline_new(transaction: bool) -> *mut redbridge_pipeline {
    Box::into_raw(Box::new(redbridge_pipeline {
        inner: Pipeline::new(transaction),
    }))
}

/// Queues one command (same arguments as redbridge_command_argv).
#[no_mangle]
pub extern "C" fn redbridge_pipeline_append_argv(
    pipeline: *mut redbridge_pipeline,
    argc: i32,
    argv: *const *const c_char,
    argvlen: *const usize,
) -> redbridge_status {
    boundary(|| {
        let pipeline = arg_mut(pipeline, "pipeline")?;
        pipeline
            .inner
            .add(Command::new(argv_slices(argc, argv, argvlen)?)?);
        Ok(())
    })
}

/// Number of queued commands (0 for NULL).
#[no_mangle]
pub extern "C" fn redbridge_pipeline_len(pipeline: *const redbridge_pipeline) -> usize {
    boundary_value(0, || Ok(arg(pipeline, "pipeline")?.inner.len()))
}

/// Sends every queued command and sets *reply to an ARRAY with one element per command,
/// in order; a command the server refused is a REDBRIDGE_REPLY_ERROR element, not a
/// failed call. A transaction whose WATCHed key changed gives REDBRIDGE_ERR_WATCH. The
/// pipeline keeps its commands and may be executed again.
#[no_mangle]
pub extern "C" fn redbridge_pipeline_execute(
    client: *const redbridge_client,
    pipeline: *const redbridge_pipeline,
    reply: *mut *mut redbridge_reply,
) -> redbridge_status {
    boundary(|| {
        let client = arg(client, "client")?;
        let pipeline = arg(pipeline, "pipeline")?;
        let out = out_ptr(reply, "reply")?;
        let slots = client.inner.pipeline(&pipeline.inner)?;
        let items: Vec<*mut redbridge_reply> = slots
            .into_iter()
            .map(|s| match s {
                Ok(v) => to_reply(v),
                Err(e) => error_reply(&e),
            })
            .collect();
        let array = to_reply(Value::Array(Vec::new()));
        // SAFETY: `array` was just made by to_reply; attach the converted elements.
        unsafe { attach(array, items) };
        put(out, array);
        Ok(())
    })
}

/// Moves `items` into an empty ARRAY reply.
unsafe fn attach(array: *mut redbridge_reply, items: Vec<*mut redbridge_reply>) {
    let a = &mut *array;
    a.elements = items.len();
    if !items.is_empty() {
        a.element = Box::into_raw(items.into_boxed_slice()).cast::<*mut redbridge_reply>();
    }
}

/// Frees a pipeline. NULL is a no-op.
#[no_mangle]
pub extern "C" fn redbridge_pipeline_free(pipeline: *mut redbridge_pipeline) {
    free_box(pipeline, |_| {});
}

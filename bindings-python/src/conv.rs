//! Python values ⇄ Redis arguments and replies.
//!
//! Arguments follow redis-py's encoder: bytes, bytearray, memoryview and str (UTF-8) as
//! they are; int and float as their decimal text; anything else — None, bool, dict,
//! list — is a DataError naming the type. Replies keep their RESP type: bulk strings are
//! bytes (str with decode_responses), integers int, nil None, RESP3 maps dict, sets set,
//! doubles float, booleans bool; a server error inside an array becomes an exception
//! instance in its slot.

use std::borrow::Cow;
use std::ffi::CStr;

use pyo3::exceptions::PyUnicodeDecodeError;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PySet, PyString, PyTuple,
};
use redbridge::{Command, Value};

use crate::error;

fn data_error(py: Python<'_>, message: String) -> PyErr {
    error::to_py_err(py, &redbridge::Error::invalid(message))
}

/// Appends one argument's bytes, or fails with redis-py's DataError wording. bytes and
/// str are borrowed from the argument (no copy until the command is packed).
pub(crate) fn encode<'a>(arg: &'a Bound<'_, PyAny>, out: &mut Vec<Cow<'a, [u8]>>) -> PyResult<()> {
    if let Ok(b) = arg.cast::<PyBytes>() {
        out.push(Cow::Borrowed(b.as_bytes()));
    } else if let Ok(s) = arg.cast::<PyString>() {
        out.push(Cow::Borrowed(s.to_str()?.as_bytes()));
    } else if arg.is_instance_of::<PyBool>() {
        return Err(data_error(
            arg.py(),
            "Invalid input of type: 'bool'. Convert to a bytes, string, int or float first."
                .to_string(),
        ));
    } else if arg.is_instance_of::<PyInt>() {
        out.push(Cow::Owned(arg.str()?.to_str()?.as_bytes().to_vec()));
    } else if arg.is_instance_of::<PyFloat>() {
        out.push(Cow::Owned(arg.repr()?.to_str()?.as_bytes().to_vec()));
    } else if let Ok(b) = arg.cast::<PyByteArray>() {
        out.push(Cow::Owned(b.to_vec()));
    } else if arg.get_type().name()?.to_str()? == "memoryview" {
        out.push(Cow::Owned(
            arg.call_method0("tobytes")?
                .cast::<PyBytes>()?
                .as_bytes()
                .to_vec(),
        ));
    } else {
        let type_name = arg.get_type().name()?.to_string();
        return Err(data_error(
            arg.py(),
            format!("Invalid input of type: '{type_name}'. Convert to a bytes, string, int or float first."),
        ));
    }
    Ok(())
}

/// A core command from a tuple of Python arguments (the name first), its reply asked
/// for in the core's normal form: redis-py shapes every reply, `execute_command` too.
pub(crate) fn command(args: &Bound<'_, PyTuple>) -> PyResult<Command> {
    raw_command(args).map(Command::normalized)
}

/// [`command`] with the reply as the server sends it (the conformance vectors' view).
/// A first argument with spaces is split into words, as redis-py does
/// (`execute_command("CONFIG GET", "maxmemory")`).
pub(crate) fn raw_command(args: &Bound<'_, PyTuple>) -> PyResult<Command> {
    let items: Vec<Bound<'_, PyAny>> = args.iter().collect();
    let mut argv = Vec::with_capacity(items.len() + 1);
    for a in &items {
        encode(a, &mut argv)?;
    }
    if argv.first().is_some_and(|name| name.contains(&b' ')) {
        let name = argv.remove(0);
        let words: Vec<Cow<'_, [u8]>> = name
            .split(|&c| c == b' ')
            .filter(|w| !w.is_empty())
            .map(|w| Cow::Owned(w.to_vec()))
            .collect();
        argv.splice(0..0, words);
    }
    Command::new(argv).map_err(|e| error::to_py_err(args.py(), &e))
}

/// How reply strings reach Python: bytes, or str decoded as UTF-8 (redis-py's
/// `decode_responses`), invalid bytes handled by a Python error handler when one is named
/// (`encoding_errors`).
#[derive(Clone, Copy)]
pub(crate) enum Decode {
    /// bytes
    Bytes,
    /// str; invalid UTF-8 raises UnicodeDecodeError
    Utf8,
    /// str; invalid UTF-8 handled by this Python error handler ("replace", "ignore"…)
    Utf8With(&'static CStr),
}

impl Decode {
    /// From `decode_responses` and `encoding_errors`; None for an unknown handler.
    pub(crate) fn new(decode: bool, errors: &str) -> Option<Decode> {
        if !decode {
            return Some(Decode::Bytes);
        }
        Some(match errors {
            "strict" => Decode::Utf8,
            "replace" => Decode::Utf8With(c"replace"),
            "ignore" => Decode::Utf8With(c"ignore"),
            "backslashreplace" => Decode::Utf8With(c"backslashreplace"),
            "surrogateescape" => Decode::Utf8With(c"surrogateescape"),
            _ => return None,
        })
    }
}

fn text<'py>(py: Python<'py>, bytes: &[u8], decode: Decode) -> PyResult<Bound<'py, PyAny>> {
    let errors = match decode {
        Decode::Bytes => return Ok(PyBytes::new(py, bytes).into_any()),
        Decode::Utf8 => None,
        Decode::Utf8With(errors) => Some(errors),
    };
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(PyString::new(py, s).into_any()),
        Err(_) if errors.is_some() => {
            let errors = errors.map_or(std::ptr::null(), CStr::as_ptr);
            // SAFETY: the pointer and length describe `bytes`, alive for the call; `errors`
            // is a NUL-terminated static string; the result is a new reference or NULL
            // with a Python exception set, which from_owned_ptr_or_err turns into Err.
            unsafe {
                let ptr = pyo3::ffi::PyUnicode_DecodeUTF8(
                    bytes.as_ptr().cast(),
                    bytes.len() as pyo3::ffi::Py_ssize_t,
                    errors,
                );
                Bound::from_owned_ptr_or_err(py, ptr)
            }
        }
        Err(e) => {
            let start = e.valid_up_to();
            Err(PyUnicodeDecodeError::new_err((
                "utf-8",
                PyBytes::new(py, bytes).unbind(),
                start,
                start + e.error_len().unwrap_or(1),
                "invalid UTF-8 in a reply; use decode_responses=False for binary values",
            )))
        }
    }
}

/// A reply as a Python object.
pub(crate) fn to_py(py: Python<'_>, v: Value, decode: Decode) -> PyResult<Py<PyAny>> {
    Ok(match v {
        Value::Nil => py.None(),
        Value::Int(i) => i.into_pyobject(py)?.into_any().unbind(),
        Value::BulkString(b) => text(py, &b, decode)?.unbind(),
        Value::SimpleString(s) => text(py, s.as_bytes(), decode)?.unbind(),
        Value::Okay => text(py, b"OK", decode)?.unbind(),
        Value::Double(d) => d.into_pyobject(py)?.into_any().unbind(),
        Value::Boolean(b) => PyBool::new(py, b).to_owned().into_any().unbind(),
        Value::Array(items) => list(py, items, decode)?.into_any().unbind(),
        Value::Set(items) => {
            // A set whose members cannot be in a Python set (maps, arrays: COMMAND's
            // replies nest them) stays a list; the usual set of strings goes straight
            // into a set, with no list in between.
            if items.iter().any(|v| {
                matches!(
                    v,
                    Value::Map(_)
                        | Value::Array(_)
                        | Value::Set(_)
                        | Value::Push { .. }
                        | Value::Attribute { .. }
                )
            }) {
                list(py, items, decode)?.into_any().unbind()
            } else {
                let set = PySet::empty(py)?;
                for item in items {
                    set.add(to_py(py, item, decode)?)?;
                }
                set.into_any().unbind()
            }
        }
        Value::Map(pairs) => {
            let dict = PyDict::new(py);
            for (k, v) in pairs {
                dict.set_item(to_py(py, k, decode)?, to_py(py, v, decode)?)?;
            }
            dict.into_any().unbind()
        }
        Value::Attribute { data, .. } => to_py(py, *data, decode)?,
        Value::VerbatimString { text: t, .. } => text(py, t.as_bytes(), decode)?.unbind(),
        Value::BigNumber(n) => py.get_type::<PyInt>().call1((format!("{n:?}"),))?.unbind(),
        Value::Push { kind, data } => {
            let mut items = vec![Value::BulkString(kind.to_string().into_bytes())];
            items.extend(data);
            list(py, items, decode)?.into_any().unbind()
        }
        Value::ServerError(e) => error::exception(py, &redbridge::Error::from(e))?.unbind(),
        other => PyString::new(py, &format!("{other:?}")).into_any().unbind(),
    })
}

fn list<'py>(py: Python<'py>, items: Vec<Value>, decode: Decode) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for item in items {
        out.append(to_py(py, item, decode)?)?;
    }
    Ok(out)
}

/// Pipeline slots: values, or exception instances for the commands that failed.
pub(crate) fn slots(
    py: Python<'_>,
    slots: Vec<redbridge::Result<Value>>,
    decode: Decode,
) -> PyResult<Py<PyAny>> {
    let out = PyList::empty(py);
    for s in slots {
        match s {
            Ok(v) => out.append(to_py(py, v, decode)?)?,
            Err(e) => out.append(error::exception(py, &e)?)?,
        }
    }
    Ok(out.into_any().unbind())
}

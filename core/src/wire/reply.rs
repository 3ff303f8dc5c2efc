//! Reply normal forms: the one shape a reply has under RESP2 and RESP3, decided here so
//! that each binding only converts it into its own types (a map into a dict or an
//! object, a scored pair into a tuple or `{ value, score }`). The command table's
//! [`Shape`] column says which form a command's reply takes.

use redis::Value;

use crate::command::Shape;

/// `v` in the normal form `shape`. A reply that does not look as the shape expects (an
/// error, nil, a server that answers otherwise) is returned as it is.
pub fn normal_form(shape: Shape, v: Value) -> Value {
    match shape {
        Shape::Plain | Shape::ScoredIfAsked => v,
        Shape::Map => match v {
            Value::Array(items) => Value::Map(pairs(items).collect()),
            v => v,
        },
        Shape::Scored => scored(v),
        Shape::KeyScored => match v {
            Value::Array(mut items) if items.len() == 3 => {
                let score = items.pop().expect("three items");
                items.push(double(score));
                Value::Array(items)
            }
            v => v,
        },
        Shape::PairsPage => page(v, |items| match items {
            Value::Map(m) => m
                .into_iter()
                .map(|(k, v)| Value::Array(vec![k, v]))
                .collect(),
            Value::Array(items) => pairs(items)
                .map(|(k, v)| Value::Array(vec![k, v]))
                .collect(),
            other => vec![other],
        }),
        Shape::ScoredPage => page(v, |items| match scored(items) {
            Value::Array(pairs) => pairs,
            other => vec![other],
        }),
        Shape::PairsMap => match v {
            Value::Array(items)
                if items
                    .iter()
                    .all(|i| matches!(i, Value::Array(p) if p.len() == 2)) =>
            {
                Value::Map(
                    items
                        .into_iter()
                        .map(|pair| match pair {
                            Value::Array(mut p) => {
                                let value = p.pop().expect("two items");
                                (p.pop().expect("two items"), value)
                            }
                            _ => unreachable!("checked above"),
                        })
                        .collect(),
                )
            }
            v => v,
        },
        Shape::Maps => match v {
            Value::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(|item| match item {
                        Value::Array(flat) => Value::Map(pairs(flat).collect()),
                        other => other,
                    })
                    .collect(),
            ),
            v => v,
        },
        Shape::Pairs => match v {
            Value::Array(items) if items.iter().all(|i| matches!(i, Value::Array(_))) => {
                Value::Array(items)
            }
            Value::Array(items) => Value::Array(
                pairs(items)
                    .map(|(k, v)| Value::Array(vec![k, v]))
                    .collect(),
            ),
            v => v,
        },
        Shape::PairsIfAsked => v,
        Shape::FunctionList => tree(&FUNCTION_LIST, v),
        Shape::FunctionStats => tree(&FUNCTION_STATS, v),
        // Only the `db.N` values of MEMORY STATS are arrays (or maps); the rest numbers.
        Shape::MemoryStats => tree(&MAP_OF_MAPS, v),
        Shape::LatencyHistogram => tree(&LATENCY_HISTOGRAM, v),
        Shape::CommandDocs => tree(&COMMAND_DOCS, v),
        Shape::CommandInfo => tree(&COMMAND_INFO, v),
    }
}

/// Where the maps are in a nested reply: RESP3 sends them as maps, RESP2 as flat
/// `[key, value, …]` arrays, which become maps here. A node that does not look as
/// expected (nil, a server that answers otherwise) is left as it is.
enum Form {
    /// As sent.
    Keep,
    /// A map; the value under each named key has that form, every other value `rest`.
    Map {
        fields: &'static [(&'static str, &'static Form)],
        rest: &'static Form,
    },
    /// An array whose every item has this form.
    Items(&'static Form),
    /// An array whose item at each position has that form.
    At(&'static [(usize, &'static Form)]),
}

static KEEP: Form = Form::Keep;
static FLAT_MAP: Form = Form::Map {
    fields: &[],
    rest: &KEEP,
};
/// A map whose values are maps (a value that is no array or map is kept).
static MAP_OF_MAPS: Form = Form::Map {
    fields: &[],
    rest: &FLAT_MAP,
};
static FUNCTION_LIST: Form = Form::Items(&LIBRARY);
static LIBRARY: Form = Form::Map {
    fields: &[("functions", &FUNCTIONS)],
    rest: &KEEP,
};
static FUNCTIONS: Form = Form::Items(&FLAT_MAP);
static FUNCTION_STATS: Form = Form::Map {
    fields: &[("running_script", &FLAT_MAP), ("engines", &MAP_OF_MAPS)],
    rest: &KEEP,
};
static LATENCY_HISTOGRAM: Form = Form::Map {
    fields: &[],
    rest: &HISTOGRAM,
};
static HISTOGRAM: Form = Form::Map {
    fields: &[("histogram_usec", &FLAT_MAP)],
    rest: &KEEP,
};
static COMMAND_DOCS: Form = Form::Map {
    fields: &[],
    rest: &DOC,
};
static DOC: Form = Form::Map {
    fields: &[("arguments", &ARGUMENTS), ("subcommands", &COMMAND_DOCS)],
    rest: &KEEP,
};
static ARGUMENTS: Form = Form::Items(&ARGUMENT);
static ARGUMENT: Form = Form::Map {
    fields: &[("arguments", &ARGUMENTS)],
    rest: &KEEP,
};
static COMMAND_INFO: Form = Form::Items(&COMMAND_ENTRY);
static COMMAND_ENTRY: Form = Form::At(&[(8, &KEY_SPECS), (9, &COMMAND_INFO)]);
static KEY_SPECS: Form = Form::Items(&KEY_SPEC);
static KEY_SPEC: Form = Form::Map {
    fields: &[("begin_search", &SEARCH), ("find_keys", &SEARCH)],
    rest: &KEEP,
};
static SEARCH: Form = Form::Map {
    fields: &[("spec", &FLAT_MAP)],
    rest: &KEEP,
};

/// `v` with the maps `form` describes made maps, recursively.
fn tree(form: &'static Form, v: Value) -> Value {
    match (form, v) {
        (Form::Keep, v) => v,
        (Form::Map { fields, rest }, v) => {
            let entries: Vec<(Value, Value)> = match v {
                Value::Map(m) => m,
                Value::Array(flat) if flat.len() % 2 == 0 => pairs(flat).collect(),
                v => return v,
            };
            let form_of = |k: &Value| {
                let name: &[u8] = match k {
                    Value::BulkString(b) => b,
                    Value::SimpleString(s) => s.as_bytes(),
                    _ => b"",
                };
                fields
                    .iter()
                    .find(|(f, _)| f.as_bytes() == name)
                    .map_or(*rest, |(_, form)| *form)
            };
            Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        let v = tree(form_of(&k), v);
                        (k, v)
                    })
                    .collect(),
            )
        }
        (Form::Items(item), Value::Array(items)) => {
            Value::Array(items.into_iter().map(|i| tree(item, i)).collect())
        }
        (Form::At(positions), Value::Array(items)) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| match positions.iter().find(|(p, _)| *p == i) {
                    Some((_, form)) => tree(form, v),
                    None => v,
                })
                .collect(),
        ),
        (_, v) => v,
    }
}

/// Consecutive pairs of a flat array (a trailing odd item is dropped, as no such reply
/// exists).
fn pairs(items: Vec<Value>) -> impl Iterator<Item = (Value, Value)> {
    let mut it = items.into_iter();
    std::iter::from_fn(move || Some((it.next()?, it.next()?)))
}

/// `[[member, score], …]` from RESP2's flat `[member, score, …]`, RESP3's nested pairs,
/// or RESP3's flat `[member, score]` of a single pop — the same value either way.
fn scored(v: Value) -> Value {
    let Value::Array(items) = v else {
        return v;
    };
    let nested = items.iter().all(|i| matches!(i, Value::Array(_)));
    let out = if nested {
        items
            .into_iter()
            .map(|pair| match pair {
                Value::Array(mut p) if p.len() == 2 => {
                    let score = p.pop().expect("two items");
                    p.push(double(score));
                    Value::Array(p)
                }
                other => other,
            })
            .collect()
    } else {
        pairs(items)
            .map(|(m, s)| Value::Array(vec![m, double(s)]))
            .collect()
    };
    Value::Array(out)
}

/// A scan page `[cursor, items]` with its items in normal form.
fn page(v: Value, items_in_form: impl FnOnce(Value) -> Vec<Value>) -> Value {
    match v {
        Value::Array(mut parts) if parts.len() == 2 => {
            let items = parts.pop().expect("two parts");
            parts.push(Value::Array(items_in_form(items)));
            Value::Array(parts)
        }
        v => v,
    }
}

/// A score as a double: RESP2 sends `"1.5"`, `"inf"`, `"-inf"` as strings.
fn double(v: Value) -> Value {
    let text = match &v {
        Value::BulkString(b) => std::str::from_utf8(b).ok(),
        Value::SimpleString(s) => Some(s.as_str()),
        Value::Int(i) => return Value::Double(*i as f64),
        _ => None,
    };
    match text.and_then(|t| t.trim().parse::<f64>().ok()) {
        Some(d) => Value::Double(d),
        None => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }
    fn pair(m: &str, s: f64) -> Value {
        Value::Array(vec![b(m), Value::Double(s)])
    }

    #[test]
    fn scores_are_pairs_of_doubles_in_both_protocols() {
        let want = Value::Array(vec![pair("a", 1.0), pair("b", f64::INFINITY)]);
        let resp2 = Value::Array(vec![b("a"), b("1"), b("b"), b("inf")]);
        let resp3 = Value::Array(vec![pair("a", 1.0), pair("b", f64::INFINITY)]);
        assert_eq!(normal_form(Shape::Scored, resp2), want);
        assert_eq!(normal_form(Shape::Scored, resp3), want);
        // RESP3's single pop is a flat pair; RESP2's is a flat pair of strings.
        let one = Value::Array(vec![pair("a", -2.5)]);
        let flat3 = Value::Array(vec![b("a"), Value::Double(-2.5)]);
        let flat2 = Value::Array(vec![b("a"), b("-2.5")]);
        assert_eq!(normal_form(Shape::Scored, flat3), one);
        assert_eq!(normal_form(Shape::Scored, flat2), one);
        assert_eq!(
            normal_form(Shape::Scored, Value::Array(vec![])),
            Value::Array(vec![])
        );
    }

    #[test]
    fn maps_pages_and_keyed_scores() {
        let flat = Value::Array(vec![b("f"), b("v"), b("g"), b("w")]);
        let map = Value::Map(vec![(b("f"), b("v")), (b("g"), b("w"))]);
        assert_eq!(normal_form(Shape::Map, flat), map);
        assert_eq!(normal_form(Shape::Map, map.clone()), map);

        let page2 = Value::Array(vec![b("0"), Value::Array(vec![b("f"), b("v")])]);
        let want = Value::Array(vec![
            b("0"),
            Value::Array(vec![Value::Array(vec![b("f"), b("v")])]),
        ]);
        assert_eq!(normal_form(Shape::PairsPage, page2), want);
        let zpage = Value::Array(vec![b("7"), Value::Array(vec![b("m"), b("2")])]);
        let want = Value::Array(vec![b("7"), Value::Array(vec![pair("m", 2.0)])]);
        assert_eq!(normal_form(Shape::ScoredPage, zpage), want);

        let bz2 = Value::Array(vec![b("k"), b("m"), b("3")]);
        let bz3 = Value::Array(vec![b("k"), b("m"), Value::Double(3.0)]);
        assert_eq!(normal_form(Shape::KeyScored, bz2), bz3.clone());
        assert_eq!(normal_form(Shape::KeyScored, bz3.clone()), bz3);
        assert_eq!(normal_form(Shape::KeyScored, Value::Nil), Value::Nil);

        let entries = Value::Array(vec![Value::Array(vec![
            b("1-0"),
            Value::Array(vec![b("f"), b("v")]),
        ])]);
        let resp2 = Value::Array(vec![Value::Array(vec![b("s"), entries.clone()])]);
        let map = Value::Map(vec![(b("s"), entries)]);
        assert_eq!(normal_form(Shape::PairsMap, resp2), map);
        assert_eq!(normal_form(Shape::PairsMap, map.clone()), map);
        assert_eq!(normal_form(Shape::PairsMap, Value::Nil), Value::Nil);

        let groups2 = Value::Array(vec![Value::Array(vec![
            b("name"),
            b("g"),
            b("consumers"),
            Value::Int(0),
        ])]);
        let groups3 = Value::Array(vec![Value::Map(vec![
            (b("name"), b("g")),
            (b("consumers"), Value::Int(0)),
        ])]);
        assert_eq!(normal_form(Shape::Maps, groups2), groups3.clone());
        assert_eq!(normal_form(Shape::Maps, groups3.clone()), groups3);
    }

    fn arr(items: Vec<Value>) -> Value {
        Value::Array(items)
    }
    fn map(pairs: Vec<(&str, Value)>) -> Value {
        Value::Map(pairs.into_iter().map(|(k, v)| (b(k), v)).collect())
    }

    #[test]
    fn pairs_from_flat_or_nested() {
        let want = arr(vec![arr(vec![b("f"), b("1")]), arr(vec![b("g"), b("2")])]);
        let flat = arr(vec![b("f"), b("1"), b("g"), b("2")]);
        assert_eq!(normal_form(Shape::Pairs, flat), want);
        assert_eq!(normal_form(Shape::Pairs, want.clone()), want);
        assert_eq!(normal_form(Shape::Pairs, arr(vec![])), arr(vec![]));
    }

    #[test]
    fn nested_maps_from_resp2_flat_arrays() {
        // FUNCTION LIST: libraries, each one's functions maps; flags kept.
        let flags = arr(vec![b("no-writes")]);
        let resp2 = arr(vec![arr(vec![
            b("library_name"),
            b("lib"),
            b("functions"),
            arr(vec![arr(vec![
                b("name"),
                b("f"),
                b("flags"),
                flags.clone(),
            ])]),
        ])]);
        let want = arr(vec![map(vec![
            ("library_name", b("lib")),
            (
                "functions",
                arr(vec![map(vec![("name", b("f")), ("flags", flags)])]),
            ),
        ])]);
        assert_eq!(normal_form(Shape::FunctionList, resp2), want);
        assert_eq!(normal_form(Shape::FunctionList, want.clone()), want);

        // FUNCTION STATS: nil running script kept, engines a map of maps.
        let resp2 = arr(vec![
            b("running_script"),
            Value::Nil,
            b("engines"),
            arr(vec![
                b("LUA"),
                arr(vec![b("libraries_count"), Value::Int(1)]),
            ]),
        ]);
        let want = map(vec![
            ("running_script", Value::Nil),
            (
                "engines",
                map(vec![("LUA", map(vec![("libraries_count", Value::Int(1))]))]),
            ),
        ]);
        assert_eq!(normal_form(Shape::FunctionStats, resp2), want);

        // MEMORY STATS: numbers kept, db.N a map.
        let resp2 = arr(vec![
            b("peak.allocated"),
            Value::Int(5),
            b("db.0"),
            arr(vec![b("overhead.hashtable.main"), Value::Int(72)]),
            b("fragmentation"),
            b("1.5"),
        ]);
        let want = map(vec![
            ("peak.allocated", Value::Int(5)),
            (
                "db.0",
                map(vec![("overhead.hashtable.main", Value::Int(72))]),
            ),
            ("fragmentation", b("1.5")),
        ]);
        assert_eq!(normal_form(Shape::MemoryStats, resp2), want);

        // LATENCY HISTOGRAM: command → { calls, histogram_usec: map }.
        let resp2 = arr(vec![
            b("set"),
            arr(vec![
                b("calls"),
                Value::Int(1),
                b("histogram_usec"),
                arr(vec![Value::Int(8), Value::Int(1)]),
            ]),
        ]);
        let want = map(vec![(
            "set",
            map(vec![
                ("calls", Value::Int(1)),
                (
                    "histogram_usec",
                    Value::Map(vec![(Value::Int(8), Value::Int(1))]),
                ),
            ]),
        )]);
        assert_eq!(normal_form(Shape::LatencyHistogram, resp2), want);

        // COMMAND DOCS: nested arguments and subcommands; history (pairs) kept.
        let history = arr(vec![arr(vec![b("6.2.0"), b("added")])]);
        let arg2 = arr(vec![b("name"), b("inner"), b("type"), b("string")]);
        let resp2 = arr(vec![
            b("get"),
            arr(vec![
                b("history"),
                history.clone(),
                b("arguments"),
                arr(vec![arr(vec![
                    b("name"),
                    b("outer"),
                    b("arguments"),
                    arr(vec![arg2]),
                ])]),
                b("subcommands"),
                arr(vec![b("get|x"), arr(vec![b("summary"), b("s")])]),
            ]),
        ]);
        let inner = map(vec![("name", b("inner")), ("type", b("string"))]);
        let want = map(vec![(
            "get",
            map(vec![
                ("history", history),
                (
                    "arguments",
                    arr(vec![map(vec![
                        ("name", b("outer")),
                        ("arguments", arr(vec![inner])),
                    ])]),
                ),
                (
                    "subcommands",
                    map(vec![("get|x", map(vec![("summary", b("s"))]))]),
                ),
            ]),
        )]);
        assert_eq!(normal_form(Shape::CommandDocs, resp2), want.clone());
        assert_eq!(normal_form(Shape::CommandDocs, want.clone()), want);

        // COMMAND INFO: key specs (position 8) maps, subcommands (9) entries again; nil kept.
        let spec2 = arr(vec![
            b("begin_search"),
            arr(vec![
                b("type"),
                b("index"),
                b("spec"),
                arr(vec![b("index"), Value::Int(1)]),
            ]),
            b("flags"),
            arr(vec![b("RO")]),
        ]);
        let entry = |specs: Value, subs: Value| {
            let mut e: Vec<Value> = (0..8).map(Value::Int).collect();
            e.push(specs);
            e.push(subs);
            arr(e)
        };
        let spec3 = map(vec![
            (
                "begin_search",
                map(vec![
                    ("type", b("index")),
                    ("spec", map(vec![("index", Value::Int(1))])),
                ]),
            ),
            ("flags", arr(vec![b("RO")])),
        ]);
        let resp2 = arr(vec![
            entry(
                arr(vec![spec2.clone()]),
                arr(vec![entry(arr(vec![spec2]), arr(vec![]))]),
            ),
            Value::Nil,
        ]);
        let want = arr(vec![
            entry(
                arr(vec![spec3.clone()]),
                arr(vec![entry(arr(vec![spec3]), arr(vec![]))]),
            ),
            Value::Nil,
        ]);
        assert_eq!(normal_form(Shape::CommandInfo, resp2), want.clone());
        assert_eq!(normal_form(Shape::CommandInfo, want.clone()), want);
    }
}

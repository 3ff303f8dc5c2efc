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
}

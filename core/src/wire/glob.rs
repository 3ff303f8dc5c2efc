//! Redis's glob patterns (`*`, `?`, `[abc]`, `[^a-z]`, `\x`), matched the way the server
//! matches `SCAN … MATCH` and `KEYS`: a cluster-wide key walk that reads keys slot by slot
//! (`CLUSTER GETKEYSINSLOT`, which has no MATCH) filters them here. Byte-wise and
//! case-sensitive, as in the server's `stringmatchlen`.

/// Whether `text` matches the glob `pattern`.
pub(crate) fn matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    while p < pattern.len() {
        match pattern[p] {
            b'*' => {
                while p + 1 < pattern.len() && pattern[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == pattern.len() {
                    return true;
                }
                return (t..=text.len()).any(|start| matches(&pattern[p + 1..], &text[start..]));
            }
            b'?' => {
                if t == text.len() {
                    return false;
                }
                t += 1;
            }
            b'[' => {
                if t == text.len() {
                    return false;
                }
                let (hit, next) = class(pattern, p + 1, text[t]);
                if !hit {
                    return false;
                }
                p = next;
                t += 1;
                continue;
            }
            b'\\' if p + 1 < pattern.len() => {
                p += 1;
                if t == text.len() || pattern[p] != text[t] {
                    return false;
                }
                t += 1;
            }
            c => {
                if t == text.len() || c != text[t] {
                    return false;
                }
                t += 1;
            }
        }
        p += 1;
    }
    t == text.len()
}

/// A `[…]` class starting after its `[`: whether `c` is in it, and where the pattern
/// goes on (after the `]`, or at the end when it is never closed, as the server does).
fn class(pattern: &[u8], mut p: usize, c: u8) -> (bool, usize) {
    let negate = pattern.get(p) == Some(&b'^');
    if negate {
        p += 1;
    }
    let mut hit = false;
    while p < pattern.len() && pattern[p] != b']' {
        if pattern[p] == b'\\' && p + 1 < pattern.len() {
            p += 1;
            hit |= pattern[p] == c;
        } else if p + 2 < pattern.len() && pattern[p + 1] == b'-' {
            let (a, b) = (pattern[p], pattern[p + 2]);
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            hit |= lo <= c && c <= hi;
            p += 2;
        } else {
            hit |= pattern[p] == c;
        }
        p += 1;
    }
    (hit != negate, p + 1)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn as_the_server_matches() {
        let yes = [
            ("*", "anything"),
            ("user:*", "user:1"),
            ("h?llo", "hello"),
            ("h[ae]llo", "hallo"),
            ("h[^e]llo", "hallo"),
            ("h[a-b]llo", "hbllo"),
            ("h[b-a]llo", "hallo"),
            ("a\\*b", "a*b"),
            ("*:*:x", "a:b:x"),
            ("", ""),
        ];
        let no = [
            ("user:*", "users"),
            ("h?llo", "hllo"),
            ("h[^e]llo", "hello"),
            ("h[a-b]llo", "hcllo"),
            ("a\\*b", "axb"),
            ("abc", "abcd"),
            ("", "x"),
        ];
        for (p, t) in yes {
            assert!(matches(p.as_bytes(), t.as_bytes()), "{p} ~ {t}");
        }
        for (p, t) in no {
            assert!(!matches(p.as_bytes(), t.as_bytes()), "{p} !~ {t}");
        }
    }
}

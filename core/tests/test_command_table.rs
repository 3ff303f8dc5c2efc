//! The command table (generated from the spec in `spec/`) against the server the tests
//! run on: every command and subcommand it lists has a row of its own, and the table's
//! read-only flag never calls a command that writes safe to repeat.

mod support;

use redbridge::{Command, Flags, SyncClient, Value};
use support::TestServer;

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        other => panic!("not a string: {other:?}"),
    }
}

#[test]
fn every_command_of_the_server_has_a_row() {
    let srv = TestServer::start();
    let client = SyncClient::connect(srv.config()).unwrap();
    let Value::Array(infos) = client
        .execute(&Command::new(["COMMAND", "INFO"]).unwrap())
        .unwrap()
    else {
        panic!("COMMAND INFO is an array")
    };
    let mut checked = 0;
    let mut missing = Vec::new();
    let mut wrong = Vec::new();
    let mut check = |info: &Value| {
        let Value::Array(parts) = info else { return };
        let full = text(&parts[0]).to_ascii_uppercase();
        let (name, sub) = match full.split_once('|') {
            Some((n, s)) => (n.to_string(), Some(s.to_string())),
            None => (full.clone(), None),
        };
        let mut argv = vec![name.clone()];
        argv.extend(sub.clone());
        argv.push("x".into());
        let cmd = Command::new(&argv);
        // Blocking commands need their time argument to parse; their row is what counts.
        let meta_name = match &cmd {
            Ok(c) => c.name().to_string(),
            Err(_) => return,
        };
        let want = full.replace('|', " ");
        if meta_name != want {
            missing.push(want.clone());
        }
        let server_flags: Vec<String> = match &parts[2] {
            Value::Array(f) | Value::Set(f) => f.iter().map(text).collect(),
            _ => vec![],
        };
        let cmd = cmd.unwrap();
        if server_flags.iter().any(|f| f == "write") && cmd.flags().contains(Flags::READONLY) {
            wrong.push(want);
        }
        checked += 1;
    };
    for info in &infos {
        check(info);
        if let Value::Array(parts) = info {
            if let Some(Value::Array(subs)) = parts.get(9) {
                subs.iter().for_each(&mut check);
            }
        }
    }
    assert!(checked > 300, "only {checked} commands checked");
    assert!(missing.is_empty(), "no row of their own: {missing:?}");
    assert!(
        wrong.is_empty(),
        "writes the table calls read-only: {wrong:?}"
    );
    client.close();
}

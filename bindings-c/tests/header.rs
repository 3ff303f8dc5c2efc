//! The committed header must be exactly what cbindgen generates from the code.
//! Regenerate it with: UPDATE_HEADER=1 cargo test -p redbridge-c --test header

#[test]
fn committed_header_matches_the_code() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let config =
        cbindgen::Config::from_file(format!("{dir}/cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let path = format!("{dir}/include/redbridge.h");
    if std::env::var("UPDATE_HEADER").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "bindings-c/include/redbridge.h differs from what the code generates; \
         run `UPDATE_HEADER=1 cargo test -p redbridge-c --test header` and commit it"
    );
}

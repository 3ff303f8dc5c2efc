// The shared library's soname, set only when REDBRIDGE_SONAME names one: `make dist` does
// (packaging/dist.sh, e.g. libredbridge.so.0.1), so the tarball's .so carries the ABI version
// its users' programs then record. Development and test builds link without one, so
// `-Ltarget/debug -lredbridge` keeps finding the plain libredbridge.so at run time.
fn main() {
    println!("cargo:rerun-if-env-changed=REDBRIDGE_SONAME");
    if let Ok(soname) = std::env::var("REDBRIDGE_SONAME") {
        if !soname.is_empty() {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
        }
    }
}

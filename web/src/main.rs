//! The wasm entry point; `scripts/build-web.sh` turns it into the web bundle.

fn main() {
    #[cfg(target_arch = "wasm32")]
    tessera_web::run();
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("tessera-web runs in a browser: build it with scripts/build-web.sh");
}

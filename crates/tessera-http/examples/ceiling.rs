//! The ceiling of `make bench`: bare actix-web handlers that answer `GET /` and
//! `GET /api/v1/me` with the bodies Tessera sends for them, with no authentication,
//! no database and no middleware. Tessera's authenticated requests are measured
//! against it in the same run, on the same machine.
//!
//! ```text
//! cargo run --release -p tessera-http --example ceiling -- 127.0.0.1:8081 1 alice '{"id":1}'
//! ```
//!
//! Arguments: the address to listen on, the number of workers (0: one per core), the
//! user name that `GET /` greets, and the exact `GET /api/v1/me` body to answer.

use actix_web::http::header::ContentType;
use actix_web::{App, HttpResponse, HttpServer, web};

const USAGE: &str = "usage: ceiling ADDRESS WORKERS USERNAME ME_BODY";

/// The two bodies, fixed for the whole run.
struct Bodies {
    hello: String,
    me: String,
}

async fn hello(bodies: web::Data<Bodies>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(bodies.hello.clone())
}

async fn me(bodies: web::Data<Bodies>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(bodies.me.clone())
}

fn usage_error(detail: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("{detail}\n{USAGE}"),
    )
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [address, workers, username, me_body] = args.as_slice() else {
        return Err(usage_error("expected four arguments"));
    };
    let workers: usize = workers
        .parse()
        .map_err(|_| usage_error("WORKERS is not a number"))?;
    // What Tessera's tutorial route writes: compact JSON and a newline, as Flask does.
    let hello_body = serde_json::to_string(&format!("Hello, {username}"))
        .map_err(|e| usage_error(&e.to_string()))?;
    let bodies = web::Data::new(Bodies {
        hello: format!("{hello_body}\n"),
        me: me_body.clone(),
    });
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(bodies.clone())
            .route("/", web::get().to(hello))
            .route("/api/v1/me", web::get().to(me))
    })
    .bind(address.as_str())?;
    if workers > 0 {
        server = server.workers(workers);
    }
    server.run().await
}

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = praxisbote_relay::Args::parse();
    match praxisbote_relay::run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("praxisbote-relay: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

//! Generates the Rust code of `linewall/v1/*.proto` with a pure-Rust protobuf compiler,
//! so a fresh machine needs no `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=linewall/v1/linewall.proto");
    let fds = protox::compile(["linewall/v1/linewall.proto"], ["."])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("linewall_v1_descriptor.bin"), prost::Message::encode_to_vec(&fds))?;
    tonic_prost_build::configure()
        .codec_path("crate::codec::Codec")
        .build_server(true)
        .build_client(true)
        .compile_fds(fds)?;
    Ok(())
}

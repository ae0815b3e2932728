//! Lintel's gRPC API, package `lintel.v1`: the messages and the client and server code that
//! `build.rs` generates from `proto/lintel/v1/lintel.proto` and `controller.proto` (with protox: no `protoc` needed).

/// Package `lintel.v1`.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod v1 {
    tonic::include_proto!("lintel.v1");
}

/// The compiled `.proto` files (a `FileDescriptorSet`), for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/lintel_v1_descriptor.bin"));

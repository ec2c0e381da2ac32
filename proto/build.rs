//! Generates Rust code for every `.proto` under `proto/` with the vendored
//! `protoc`, so builds never depend on a system compiler or a download.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    std::env::set_var("PROTOC", protoc);
    let files = [
        "proto/school/common/v1/common.proto",
        "proto/school/students/v1/students.proto",
        "proto/school/students/v1/guardians.proto",
        "proto/school/students/v1/courses.proto",
        "proto/school/students/v1/fees.proto",
        "proto/school/students/v1/grades.proto",
        "proto/school/events/v1/events.proto",
        "proto/school/analytics/v1/analytics.proto",
        "proto/school/notify/v1/notify.proto",
    ];
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_protos(&files, &["proto"])?;
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    Ok(())
}

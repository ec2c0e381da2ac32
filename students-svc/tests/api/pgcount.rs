//! The statement-counting proxy (`platform::testing::pgcount`) in front of
//! students-svc's database server.

pub use platform::testing::pgcount::StatementCounter;

pub async fn counter() -> StatementCounter {
    let url = std::env::var("STUDENTS_DATABASE_URL").expect("STUDENTS_DATABASE_URL");
    StatementCounter::start(&url).await
}

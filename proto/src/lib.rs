//! Protobuf contracts shared by the gateway and the services.
//!
//! Packages are versioned (`school.students.v1`); a breaking change gets a new
//! package next to the old one rather than an edit in place.

#![allow(clippy::all, clippy::pedantic)]

pub mod common {
    pub mod v1 {
        tonic::include_proto!("school.common.v1");
    }
}

pub mod students {
    pub mod v1 {
        tonic::include_proto!("school.students.v1");
    }
}

pub mod events {
    pub mod v1 {
        tonic::include_proto!("school.events.v1");
    }
}

pub mod notify {
    pub mod v1 {
        tonic::include_proto!("school.notify.v1");
    }
}

pub mod analytics {
    pub mod v1 {
        tonic::include_proto!("school.analytics.v1");
    }
}

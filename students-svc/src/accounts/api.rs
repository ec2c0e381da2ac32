//! `AuthService` (sign in, who am I) and `UserService` (staff logins).

use deadpool_postgres::Pool;
use platform::caller::{Caller, Role};
use platform::service::ServiceError;
use proto::students::v1 as pb;
use tonic::{Request, Response};

use super::{domain::NewUser, repo};
use crate::authz::{origin, require};
use crate::values::{Email, Slug};
use crate::{passwords, Reply};

#[derive(Clone)]
pub struct AuthApi {
    pool: Pool,
}

impl AuthApi {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

#[derive(Clone)]
pub struct UserApi {
    pool: Pool,
}

impl UserApi {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

#[tonic::async_trait]
impl pb::auth_service_server::AuthService for AuthApi {
    async fn login(&self, req: Request<pb::LoginRequest>) -> Reply<pb::LoginResponse> {
        const BAD: ServiceError =
            ServiceError::Unauthenticated("invalid school, e-mail or password");
        let r = req.into_inner();
        // Malformed credentials are simply wrong credentials: no hints.
        let (Ok(slug), Ok(email)) = (Slug::parse(&r.school_slug), Email::parse(&r.email)) else {
            passwords::verify(r.password, None).await?;
            return Err(BAD.into());
        };
        if r.password.len() > 1024 {
            return Err(BAD.into());
        }
        let found = repo::find_login(&self.pool, &slug, &email).await?;
        let (user, hash) = match found {
            Some((u, h)) => (Some(u), Some(h)),
            None => (None, None),
        };
        let ok = passwords::verify(r.password, hash).await?;
        match user {
            Some(u) if ok && u.active => Ok(Response::new(pb::LoginResponse {
                user: Some(u.into()),
            })),
            _ => Err(BAD.into()),
        }
    }

    async fn who_am_i(&self, req: Request<pb::WhoAmIRequest>) -> Reply<pb::User> {
        let caller = Caller::read(req.metadata())?;
        match repo::get_user(&self.pool, caller.school_id, caller.user_id).await? {
            Some(u) if u.active => Ok(Response::new(u.into())),
            _ => Err(ServiceError::Unauthenticated("the account no longer exists").into()),
        }
    }
}

#[tonic::async_trait]
impl pb::user_service_server::UserService for UserApi {
    async fn create_user(&self, req: Request<pb::CreateUserRequest>) -> Reply<pb::User> {
        let caller = Caller::read(req.metadata())?;
        require(&caller, &[Role::Admin])?;
        let new = NewUser::try_from(req.into_inner())?;
        let hash = passwords::hash(new.password.expose().to_owned()).await?;
        let user = repo::create_user(&self.pool, origin(&caller), &new, &hash).await?;
        Ok(Response::new(user.into()))
    }
}

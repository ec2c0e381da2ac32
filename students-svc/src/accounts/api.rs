//! `AuthService` (sign in, who am I) and `UserService` (staff logins).

use deadpool_postgres::Pool;
use platform::caller::{Caller, Role};
use platform::service::ServiceError;
use proto::common::v1 as common;
use proto::students::v1 as pb;
use tonic::{Request, Response};

use super::model::UserRow;
use super::repo::UserChange;
use super::revocations::Revocations;
use super::sessions::{self, Refreshed, Started};
use super::throttle::{self, Throttle};
use super::{domain::NewUser, repo};
use crate::authz::{origin, require};
use crate::values::{Email, NewPassword, Slug};
use crate::{passwords, Reply};

#[derive(Clone)]
pub struct AuthApi {
    pool: Pool,
    throttle: Throttle,
    sessions: SessionSettings,
    revocations: Revocations,
}

/// How long a session lives without a new sign-in.
#[derive(Clone, Copy, Debug)]
pub struct SessionSettings {
    pub lifetime: std::time::Duration,
}

impl AuthApi {
    pub fn new(
        pool: Pool,
        throttle: Throttle,
        sessions: SessionSettings,
        revocations: Revocations,
    ) -> Self {
        Self {
            pool,
            throttle,
            sessions,
            revocations,
        }
    }
}

fn signed_in(user: UserRow, s: Started) -> pb::LoginResponse {
    pb::LoginResponse {
        user: Some(user.into()),
        session: Some(pb::Session {
            id: s.id.to_string(),
            refresh_token: s.refresh_token,
            refresh_expires_at: Some(platform::wire::timestamp(s.expires_at)),
            epoch: s.epoch,
            must_change_password: s.must_change_password,
        }),
    }
}

#[derive(Clone)]
pub struct UserApi {
    pool: Pool,
    revocations: Revocations,
}

impl UserApi {
    pub fn new(pool: Pool, revocations: Revocations) -> Self {
        Self { pool, revocations }
    }
}

fn user_id(raw: &str) -> Result<uuid::Uuid, ServiceError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ServiceError::invalid("user_id", "must be a user id"))
}

#[tonic::async_trait]
impl pb::auth_service_server::AuthService for AuthApi {
    async fn login(&self, req: Request<pb::LoginRequest>) -> Reply<pb::LoginResponse> {
        const BAD: ServiceError =
            ServiceError::Unauthenticated("invalid school, e-mail or password");
        let r = req.into_inner();
        // Locked accounts are refused before any hash is spent on them.
        let login = throttle::login_key(&r.school_slug, &r.email);
        if let Some(left) = throttle::locked(&self.pool, &login).await? {
            return Err(platform::status::quota_exceeded(
                "too many failed sign-ins for this account; try again later",
                left,
            ));
        }
        // Malformed credentials are simply wrong credentials: no hints.
        let (Ok(slug), Ok(email)) = (Slug::parse(&r.school_slug), Email::parse(&r.email)) else {
            passwords::verify(r.password, None).await?;
            throttle::failed(&self.pool, &login, self.throttle).await?;
            return Err(BAD.into());
        };
        if r.password.len() > 1024 {
            throttle::failed(&self.pool, &login, self.throttle).await?;
            return Err(BAD.into());
        }
        let found = repo::find_login(&self.pool, &slug, &email).await?;
        let hash = found.as_ref().map(|f| f.hash.clone());
        let ok = passwords::verify(r.password, hash).await?;
        match found {
            Some(f) if ok && f.user.active => {
                throttle::succeeded(&self.pool, &login).await?;
                let client = self.pool.get().await.map_err(ServiceError::from)?;
                let started = sessions::start(
                    &client,
                    &f.user,
                    f.epoch,
                    f.must_change_password,
                    self.sessions.lifetime,
                )
                .await?;
                Ok(Response::new(signed_in(f.user, started)))
            }
            _ => {
                throttle::failed(&self.pool, &login, self.throttle).await?;
                Err(BAD.into())
            }
        }
    }

    async fn refresh(&self, req: Request<pb::RefreshRequest>) -> Reply<pb::LoginResponse> {
        const ENDED: ServiceError =
            ServiceError::Unauthenticated("the session has ended; sign in again");
        let token = req.into_inner().refresh_token;
        if token.len() > 200 {
            return Err(ENDED.into());
        }
        match sessions::refresh(&self.pool, &token).await? {
            Refreshed::Renewed(user, started) => Ok(Response::new(signed_in(user, started))),
            Refreshed::Refused => Err(ENDED.into()),
            Refreshed::Reused {
                school_id,
                user_id,
                session_id,
            } => {
                self.revocations.ended(school_id, user_id, session_id);
                Err(ENDED.into())
            }
        }
    }

    async fn logout(&self, req: Request<pb::LogoutRequest>) -> Reply<pb::LogoutResponse> {
        let caller = Caller::of(&req)?;
        let r = req.into_inner();
        if r.everywhere {
            let client = self.pool.get().await.map_err(ServiceError::from)?;
            if let Some(epoch) =
                sessions::bump_epoch(&client, caller.school_id, caller.user_id).await?
            {
                self.revocations
                    .epoch(caller.school_id, caller.user_id, epoch);
            }
        } else {
            let session = uuid::Uuid::parse_str(&r.session_id)
                .map_err(|_| ServiceError::invalid("session_id", "must be a session id"))?;
            // Someone else's session, or one already ended: nothing to do.
            if sessions::end(&self.pool, caller.school_id, caller.user_id, session).await? {
                self.revocations
                    .ended(caller.school_id, caller.user_id, session);
            }
        }
        Ok(Response::new(pb::LogoutResponse {}))
    }

    async fn change_password(
        &self,
        req: Request<pb::ChangePasswordRequest>,
    ) -> Reply<pb::LoginResponse> {
        let caller = Caller::of(&req)?;
        let r = req.into_inner();
        let new = NewPassword::parse(&r.new_password)
            .map_err(|m| ServiceError::invalid("new_password", m))?;
        // Guessing the current password with a stolen access token is
        // throttled like signing in.
        let login = throttle::login_key("#password", &caller.user_id.to_string());
        if let Some(left) = throttle::locked(&self.pool, &login).await? {
            return Err(platform::status::quota_exceeded(
                "too many wrong current passwords; try again later",
                left,
            ));
        }
        let Some(old) = repo::password_hash(&self.pool, caller.school_id, caller.user_id).await?
        else {
            return Err(ServiceError::Unauthenticated("the account no longer exists").into());
        };
        if r.current_password.len() > 1024
            || !passwords::verify(r.current_password, Some(old.clone())).await?
        {
            throttle::failed(&self.pool, &login, self.throttle).await?;
            return Err(
                ServiceError::invalid("current_password", "is not the current password").into(),
            );
        }
        let hash = passwords::hash(new.expose().to_owned()).await?;
        let Some((user, started)) = repo::change_password(
            &self.pool,
            caller.school_id,
            caller.user_id,
            &old,
            &hash,
            self.sessions.lifetime,
        )
        .await?
        else {
            return Err(ServiceError::VersionConflict.into());
        };
        throttle::succeeded(&self.pool, &login).await?;
        self.revocations
            .epoch(caller.school_id, caller.user_id, started.epoch);
        Ok(Response::new(signed_in(user, started)))
    }

    async fn who_am_i(&self, req: Request<pb::WhoAmIRequest>) -> Reply<pb::User> {
        let caller = Caller::of(&req)?;
        match repo::get_user(&self.pool, caller.school_id, caller.user_id).await? {
            Some(u) if u.active => Ok(Response::new(u.into())),
            _ => Err(ServiceError::Unauthenticated("the account no longer exists").into()),
        }
    }
}

#[tonic::async_trait]
impl pb::user_service_server::UserService for UserApi {
    async fn create_user(&self, req: Request<pb::CreateUserRequest>) -> Reply<pb::User> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Admin])?;
        let new = NewUser::try_from(req.into_inner())?;
        let hash = passwords::hash(new.password.expose().to_owned()).await?;
        let user = repo::create_user(&self.pool, origin(&caller), &new, &hash).await?;
        Ok(Response::new(user.into()))
    }

    async fn update_user(&self, req: Request<pb::UpdateUserRequest>) -> Reply<pb::User> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Admin])?;
        let r = req.into_inner();
        let id = user_id(&r.user_id)?;
        let role = match r.role.map(common::Role::try_from) {
            None => None,
            Some(Ok(common::Role::Admin)) => Some(Role::Admin),
            Some(Ok(common::Role::Teacher)) => Some(Role::Teacher),
            Some(_) => return Err(ServiceError::invalid("role", "must be admin or teacher").into()),
        };
        match repo::update_user(&self.pool, caller.school_id, id, role, r.active).await? {
            UserChange::NotFound => Err(ServiceError::NotFound("user").into()),
            UserChange::NotStaff => {
                Err(ServiceError::invalid("role", "only a staff login's role can change").into())
            }
            UserChange::LastAdmin => {
                Err(ServiceError::FailedPrecondition("the school must keep an active admin").into())
            }
            UserChange::Done(user, epoch) => {
                if let Some(epoch) = epoch {
                    self.revocations.epoch(caller.school_id, user.id, epoch);
                }
                Ok(Response::new(user.into()))
            }
        }
    }

    async fn reset_password(&self, req: Request<pb::ResetPasswordRequest>) -> Reply<pb::User> {
        let caller = Caller::of(&req)?;
        require(&caller, &[Role::Admin])?;
        let r = req.into_inner();
        let id = user_id(&r.user_id)?;
        let password = NewPassword::parse(&r.temporary_password)
            .map_err(|m| ServiceError::invalid("temporary_password", m))?;
        let hash = passwords::hash(password.expose().to_owned()).await?;
        let Some((user, epoch)) =
            repo::reset_password(&self.pool, caller.school_id, id, &hash).await?
        else {
            return Err(ServiceError::NotFound("user").into());
        };
        self.revocations.epoch(caller.school_id, user.id, epoch);
        Ok(Response::new(user.into()))
    }
}

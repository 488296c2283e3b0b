//! Registration: a new account and a code to its phone; the account stays unverified until
//! the code comes back.

use super::{hashing, internal, pending_of_new, AuthService, CodeSent, OrInternal, Who};
use crate::error::{AppError, FieldErrors, Problem};
use crate::model::CodePurpose;
use crate::server::auth::phone::Phone;
use crate::server::auth::reach::Reach;
use crate::server::auth::{token, validate};
use crate::server::client::ClientInfo;
use crate::server::db::audit_event;
use crate::server::db::transactions::{self, CreateError, WithSend};
use crate::server::db::user::{self, NewUser, Taken};
use crate::server::metrics;
use crate::server::sms::CodeSms;

/// What registration asks for, as typed.
pub struct Registration {
    pub username: String,
    pub full_name: String,
    pub phone: String,
    pub email: String,
    pub password: String,
    /// The region picked beside the number ("IN"), for numbers typed without +country code.
    pub country: Option<String>,
}

pub(super) fn taken_error(taken: &Taken) -> AppError {
    AppError::InvalidFields(Box::new(FieldErrors {
        username: taken.username.then_some(Problem::UsernameTaken),
        phone: taken.phone.then_some(Problem::PhoneRegistered),
        ..FieldErrors::default()
    }))
}

impl AuthService {
    #[tracing::instrument(skip_all)]
    pub async fn register(
        &self,
        input: Registration,
        client: &ClientInfo,
    ) -> Result<CodeSent, AppError> {
        let result = self.register_steps(input, client).await;
        metrics::registration(&result);
        result
    }

    async fn register_steps(
        &self,
        input: Registration,
        client: &ClientInfo,
    ) -> Result<CodeSent, AppError> {
        let mut errors = FieldErrors::default();
        let username = validate::username(&input.username)
            .map_err(|e| errors.username = Some(e))
            .ok();
        let full_name = validate::full_name(&input.full_name)
            .map_err(|e| errors.full_name = Some(e))
            .ok();
        let phone = match self.parse_phone(&input.phone, input.country.as_deref()) {
            Ok(phone) => Some(phone),
            Err(problem) => {
                self.phone_problem(&mut errors, problem);
                None
            }
        };
        let email = validate::email(&input.email)
            .map_err(|e| errors.email = Some(e))
            .ok();
        let _ = validate::password(&input.password).map_err(|e| errors.password = Some(e));
        let (Some(username), Some(full_name), Some(phone), Some(email), true) =
            (username, full_name, phone, email, errors.is_empty())
        else {
            return Err(AppError::InvalidFields(Box::new(errors)));
        };

        // Counted before anything costly or telling: past the limit, an address learns nothing
        // of which names and numbers are taken and fills no hashing queue sign-ins need.
        self.count_attempt_from_ip("register_ip", client).await?;
        let now = self.clock.now_ms();
        // Cheap check first so a taken name costs no hash; the unique indexes still decide races.
        let taken = user::taken(&self.db, &username, phone.e164(), self.stale_before(now))
            .await
            .or_internal("register: taken check")?;
        if taken != Taken::default() {
            return Err(taken_error(&taken));
        }
        let password_hash = self
            .hasher
            .hash(input.password)
            .await
            .map_err(|e| hashing("register: hash", e))?;

        let user_key = token::new_token();
        let account = user::record(&user_key);
        let language = self.sms.language_for(&client.languages);
        let (challenge, code) = self.new_challenge(
            (account.clone(), &username),
            CodePurpose::VerifyPhone,
            phone.e164(),
            &language,
            now,
        );
        let challenge_key = challenge.key.clone();
        let pending = pending_of_new(&challenge, now);
        let audit_name = username.clone();
        let user = NewUser {
            key: user_key,
            username,
            full_name,
            phone: phone.e164().to_string(),
            email,
            password_hash,
            language: language.clone(),
        };
        match transactions::create_with_challenge(
            &self.db,
            user,
            challenge,
            now,
            self.stale_before(now),
        )
        .await
        {
            Ok(()) => {}
            Err(CreateError::Taken(taken)) => return Err(taken_error(&taken)),
            Err(e) => return Err(internal("register: create", e)),
        }

        // Limits count only once the account exists: racers for one name or phone get a clean
        // "taken" from the unique indexes, not a limit.
        let who = Who {
            account: Some(&account),
            username: &audit_name,
            phone: Some(phone.e164()),
        };
        let registered = self.event(audit_event::Kind::Registered, who, "", client);
        let mut code_sent = self.event(audit_event::Kind::CodeSent, who, "", client);
        // The activity list must show the code after the account, even within a millisecond.
        code_sent.at = code_sent.at.max(registered.at + 1);
        let sms = CodeSms {
            purpose: CodePurpose::VerifyPhone,
            to: phone.e164(),
            code: &code,
            language: &language,
            challenge: &challenge_key,
            after: None,
            event: Some(code_sent),
        };
        let sent = match self
            .may_send(
                phone.e164(),
                CodePurpose::VerifyPhone,
                false,
                client,
                now,
                WithSend::default(),
            )
            .await
        {
            Ok(()) => self.deliver(sms, None, now).await,
            Err(refused) => Err(refused),
        };
        if let Err(error) = sent {
            // Leave nothing half-made: the account only exists once its phone can be verified.
            if let Err(e) = user::delete_unverified(&self.db, &account).await {
                tracing::error!("register: cleanup after unsent code: {e}");
            }
            return Err(super::at_phone_field(error));
        }
        self.record(registered).await;
        Ok(CodeSent {
            pending,
            challenge_key,
        })
    }

    /// Where numbers may be typed and sent, by the settings.
    pub(super) fn reach(&self) -> Reach<'_> {
        Reach {
            allowed: &self.config.sms_allowed_countries,
            default_region: self.config.default_region,
        }
    }

    /// A phone number as typed, in a country we send SMS to.
    pub(super) fn parse_phone(&self, input: &str, country: Option<&str>) -> Result<Phone, Problem> {
        self.reach().parse(input, country)
    }

    /// Puts a phone problem on `fields`, with the countries that work when that is the problem.
    pub(super) fn phone_problem(&self, fields: &mut FieldErrors, problem: Problem) {
        fields.phone = Some(problem);
        if problem == Problem::PhoneCountry {
            fields.allowed_countries = Some(self.reach().prefixes());
        }
    }
}

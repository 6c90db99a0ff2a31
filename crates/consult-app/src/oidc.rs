//! Signing in through the council's identity provider over OpenID Connect: the authorization
//! code flow with PKCE (S256), a nonce and a state bound to the browser, the ID token's
//! signature, issuer, audience, expiry and nonce checked by the `openidconnect` crate. The
//! provider's subject is linked to a staff account the first time, by the e-mail address the
//! token gives: `email` when the provider does not say it is unverified, else
//! `preferred_username` when it is an address (Microsoft Entra ID's user principal name, which
//! is what Entra sends when the user has no mail attribute). After that the link decides, so a
//! changed address at the provider does not lose the account, and an address cannot be taken
//! over by a second identity.

use crate::signin::{SessionToken, SignInStep};
use crate::{App, AppError, AppResult};
use chrono::Duration;
use consult_core::{AreaHierarchy, SessionStage, SignInMethod};
use consult_store::OidcLogin;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse as _,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse as _,
};
use serde_json::json;

/// How long a browser has to come back from the provider.
const LOGIN_MINUTES: i64 = 10;

/// Where the provider is and who consult is to it.
#[derive(Clone)]
pub struct OidcSettings {
    /// The issuer (`--oidc-issuer`), e.g. `https://login.microsoftonline.com/<tenant>/v2.0`.
    pub issuer: String,
    /// consult's client id at the provider.
    pub client_id: String,
    /// consult's client secret at the provider.
    pub client_secret: String,
    /// The address the provider sends the browser back to
    /// (`<public url>/staff/sign-in/oidc/callback`, registered at the provider).
    pub redirect_url: String,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("redirect_url", &self.redirect_url)
            .finish_non_exhaustive()
    }
}

/// The identity provider, discovered once (its endpoints and signing keys).
#[derive(Clone)]
pub struct OidcProvider {
    settings: OidcSettings,
    metadata: CoreProviderMetadata,
    http: openidconnect::reqwest::Client,
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// A sign-in begun: where to send the browser, and the state to keep in its cookie.
#[derive(Debug, Clone)]
pub struct OidcRedirect {
    /// The provider's authorization address.
    pub url: String,
    /// The state the browser must bring back (kept in a cookie too, so another browser's return
    /// cannot be completed in this one).
    pub state: String,
}

fn config_error(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("the identity provider's {what}: {e}"))
}

impl OidcProvider {
    /// Reads the provider's discovery document and keys (`<issuer>/.well-known/openid-configuration`).
    pub async fn discover(settings: OidcSettings) -> AppResult<OidcProvider> {
        // Following redirects would open the client to request forgery (openidconnect's advice).
        let http = openidconnect::reqwest::Client::builder()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| config_error("HTTP client", e))?;
        let issuer = IssuerUrl::new(settings.issuer.clone()).map_err(|e| config_error("issuer", e))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &http)
            .await
            .map_err(|e| config_error("discovery", e))?;
        RedirectUrl::new(settings.redirect_url.clone()).map_err(|e| config_error("redirect address", e))?;
        Ok(OidcProvider {
            settings,
            metadata,
            http,
        })
    }

    fn client(
        &self,
    ) -> AppResult<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
    > {
        let redirect = RedirectUrl::new(self.settings.redirect_url.clone()).map_err(|e| config_error("redirect", e))?;
        Ok(CoreClient::from_provider_metadata(
            self.metadata.clone(),
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(self.settings.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    /// The issuer as configured.
    pub fn issuer(&self) -> &str {
        &self.settings.issuer
    }
}

impl App {
    /// The same application with staff signing in through `provider` too.
    pub fn with_oidc(mut self, provider: OidcProvider) -> Self {
        self.oidc = Some(std::sync::Arc::new(provider));
        self
    }

    /// Whether staff can sign in through an identity provider here.
    pub fn oidc_enabled(&self) -> bool {
        self.oidc.is_some()
    }

    fn oidc(&self) -> AppResult<&OidcProvider> {
        self.oidc
            .as_deref()
            .ok_or_else(|| AppError::NotFound("signing in through an identity provider is not set up here".into()))
    }

    /// Begins a sign-in through the identity provider: a PKCE verifier, nonce and state kept for
    /// ten minutes, and the provider's address to send the browser to.
    pub async fn oidc_begin(&self) -> AppResult<OidcRedirect> {
        let provider = self.oidc()?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = provider
            .client()?
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let now = self.now();
        let login = OidcLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            created_at: now,
        };
        self.store
            .begin_oidc_login(&login, now - Duration::minutes(LOGIN_MINUTES))
            .await?;
        Ok(OidcRedirect {
            url: url.to_string(),
            state: login.state,
        })
    }

    /// Completes a sign-in when the provider sends the browser back with `code` and `state`
    /// (which must be the state in the browser's cookie, `expected`): the code exchanged with
    /// the PKCE verifier, the ID token checked, its subject's account found or linked by e-mail
    /// address, and a signed-in session made. Anything wrong is a refusal, audited.
    pub async fn oidc_finish(
        &self,
        state: &str,
        expected: Option<&str>,
        code: &str,
        client: &str,
    ) -> AppResult<SignInStep> {
        let provider = self.oidc()?;
        let now = self.now();
        let refuse = |why: String| async move {
            self.store
                .record_sign_in_failure(
                    ("user", "unknown"),
                    &json!({ "why": why, "client": client, "method": "oidc" }),
                    &crate::signin::unknown_actor("sign-in (identity provider)"),
                    now,
                )
                .await?;
            Ok::<_, AppError>(SignInStep::Refused)
        };
        if expected != Some(state) {
            return refuse("the state is not this browser's".into()).await;
        }
        let Some(login) = self.store.take_oidc_login(state).await? else {
            return refuse("no sign-in begun with this state".into()).await;
        };
        if now - login.created_at > Duration::minutes(LOGIN_MINUTES) {
            return refuse("the sign-in took too long".into()).await;
        }
        let client_oidc = provider.client()?;
        let exchange = match client_oidc.exchange_code(AuthorizationCode::new(code.to_owned())) {
            Ok(e) => e,
            Err(e) => return Err(config_error("token endpoint", e)),
        };
        let tokens = match exchange
            .set_pkce_verifier(PkceCodeVerifier::new(login.verifier.clone()))
            .request_async(&provider.http)
            .await
        {
            Ok(t) => t,
            Err(e) => return refuse(format!("the code was refused: {e}")).await,
        };
        let Some(id_token) = tokens.id_token() else {
            return refuse("no ID token".into()).await;
        };
        let verifier = client_oidc.id_token_verifier();
        let claims = match id_token.claims(&verifier, &Nonce::new(login.nonce.clone())) {
            Ok(c) => c,
            Err(e) => return refuse(format!("the ID token is not valid: {e}")).await,
        };
        let subject = claims.subject().as_str().to_owned();
        let issuer = provider.issuer().to_owned();
        let mut email = address_of(
            claims.email().map(|e| e.as_str()),
            claims.email_verified(),
            claims.preferred_username().map(|u| u.as_str()),
        );
        // Providers that keep the profile out of the ID token (as OpenID Connect allows when an
        // access token is issued) give it at the userinfo endpoint, for the same subject.
        if email.is_none() {
            if let Ok(request) = client_oidc.user_info(tokens.access_token().to_owned(), Some(claims.subject().clone()))
            {
                let info: Result<openidconnect::core::CoreUserInfoClaims, _> =
                    request.request_async(&provider.http).await;
                if let Ok(info) = info {
                    email = address_of(
                        info.email().map(|e| e.as_str()),
                        info.email_verified(),
                        info.preferred_username().map(|u| u.as_str()),
                    );
                }
            }
        }
        let user = match self.store.user_by_oidc_subject(&issuer, &subject).await? {
            Some(id) => self.store.staff_user(id).await?,
            None => {
                let Some(email) = email else {
                    return refuse("the ID token names no e-mail address".into()).await;
                };
                let Some(user) = self.store.staff_user_by_email(&email).await? else {
                    return refuse("no account has this e-mail address".into()).await;
                };
                if user.role == consult_core::StaffRole::Admin {
                    return refuse("admins sign in with their password and second factor".into()).await;
                }
                let actor = user.actor(&AreaHierarchy::default());
                if !self
                    .store
                    .link_oidc_subject(user.id, &issuer, &subject, &actor, now)
                    .await?
                {
                    return refuse("the account is linked to another identity".into()).await;
                }
                Some(user)
            }
        };
        let Some(user) = user.filter(|u| u.disabled_at.is_none()) else {
            return refuse("the account is disabled".into()).await;
        };
        // An admin's sign-in needs their own second factor, which the provider does not give.
        if user.role == consult_core::StaffRole::Admin {
            return refuse("admins sign in with their password and second factor".into()).await;
        }
        let token: SessionToken = self
            .new_session(
                &user,
                SessionStage::SignedIn,
                SignInMethod::Oidc,
                client,
                None,
                &[],
                now,
            )
            .await?;
        Ok(SignInStep::Session(token, SessionStage::SignedIn))
    }
}

/// The e-mail address an identity says it has: `email` when the provider says it verified it,
/// else `preferred_username` when it is an address (Entra ID's user principal name, which the
/// tenant's administrators assign: `--oidc-issuer` names the council's own tenant). An
/// unverified `email` is never used: on some providers users set it themselves.
fn address_of(email: Option<&str>, verified: Option<bool>, preferred_username: Option<&str>) -> Option<String> {
    email.filter(|_| verified == Some(true)).map(str::to_owned).or_else(|| {
        preferred_username
            .map(str::to_owned)
            .filter(|u| consult_core::valid_email(&consult_core::normalise_email(u)))
    })
}

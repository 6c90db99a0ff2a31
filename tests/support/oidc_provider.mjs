// A council's identity provider for the tests: the certified `oidc-provider` package (npm),
// serving OpenID Connect discovery, the authorization code flow with PKCE (required), signed ID
// tokens and its development login and consent pages, on 127.0.0.1.
//
//   node tests/support/oidc_provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
//
// Accounts come as JSON in OIDC_ACCOUNTS: { "<login>": { claims } }. Their claims are what the
// ID token carries: the tests give Microsoft Entra ID's shapes (`oid`, `tid`,
// `preferred_username` holding the user principal name, often no `email`). The development login
// page takes any password for a known login. Prints "ready" when listening. With
// OIDC_PROFILE_IN=userinfo the profile and e-mail claims are only at the userinfo endpoint.

import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// The package is installed with the browser tests' (tests/browser/package-lock.json).
const require = createRequire(resolve(here, '../browser/package.json'));
const { default: Provider } = await import(require.resolve('oidc-provider'));

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS ?? '{}');

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username', 'oid', 'tid'],
  },
  async findAccount(_ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
  features: { devInteractions: { enabled: true } },
  // Microsoft Entra ID puts the profile in the ID token; OIDC_PROFILE_IN=userinfo keeps it out
  // (the standard's default when an access token is issued), for the userinfo endpoint.
  conformIdTokenClaims: process.env.OIDC_PROFILE_IN === 'userinfo',
  cookies: { keys: ['consult-tests-only'] },
  ttl: { Session: 600, Interaction: 600, Grant: 600, AuthorizationCode: 60, AccessToken: 600, IdToken: 600 },
});
provider.proxy = false;

const server = provider.listen(Number(port), '127.0.0.1', () => console.log('ready'));
process.stdin.on('end', () => server.close(() => process.exit(0)));
process.stdin.resume();

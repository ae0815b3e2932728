// A real OpenID Connect provider for Lintel's tests: the certified `oidc-provider` package,
// with its development login page (any password), consent given by itself, and accounts made
// up from the login typed:
//   ada@example.com             -> email ada@example.com, verified
//   unverified:ada@example.com  -> email ada@example.com, not verified
// The subject is "sub-" and the login, so two logins with one email are two identities.
//
// Settings come from the environment:
//   OIDC_PORT     port to listen on (127.0.0.1)
//   OIDC_ISSUER   the issuer URL (default http://127.0.0.1:OIDC_PORT)
//   OIDC_CLIENTS  JSON list of {client_id, client_secret, redirect_uris}
//   OIDC_KEY_ID   the id of the signing key, made at start: start again with another id to
//                 rotate the provider's keys
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const issuer = process.env.OIDC_ISSUER || `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.OIDC_CLIENTS).map((c) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  ...c,
}));

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: process.env.OIDC_KEY_ID || 'key-1', use: 'sig', alg: 'RS256' };

function account(login) {
  const unverified = login.startsWith('unverified:');
  const email = unverified ? login.slice('unverified:'.length) : login;
  const local = email.split('@')[0] || 'someone';
  return {
    accountId: login,
    async claims() {
      return {
        sub: `sub-${login}`,
        email,
        email_verified: !unverified,
        given_name: local.charAt(0).toUpperCase() + local.slice(1),
        family_name: 'Tester',
      };
    },
  };
}

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [jwk] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['given_name', 'family_name'] },
  scopes: ['openid', 'email', 'profile'],
  responseTypes: ['code'],
  pkce: { required: () => true },
  // The claims asked for by scope go in the ID token too, as Google's and Apple's do.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, id) {
    return account(id);
  },
  // Consent is given by itself: the tests are about Lintel, not the consent page.
  async loadExistingGrant(ctx) {
    const grant = new provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  ttl: { Session: 60, Interaction: 600, Grant: 600, AccessToken: 600, AuthorizationCode: 60, IdToken: 600 },
});
provider.proxy = false;

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening at ${issuer}`);
});

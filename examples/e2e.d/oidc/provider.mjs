// A certified OpenID provider (panva's oidc-provider) for the e2e suite, over HTTPS on
// loopback. Configured from the environment:
//   ISSUER, PORT, TLS_CERT, TLS_KEY  where it serves (ISSUER may name another port: a
//                                    look-alike provider claiming a real one's issuer)
//   JWKS_FILE                        its private signing keys (node provider.mjs genkey KID)
//   VETTED_URL                       the registry: the resource CI tokens are for, and the
//                                    UI client's redirect URI
//   CLIENT_SECRET                    the secret of both clients
// Clients: "ci-publisher" (client_credentials with resource indicators: a JWT access token
// whose aud is the resource) and "vetted-ui" (authorization code + PKCE, confidential).
// Users (any password): rita (groups: security), paul (groups: release-engineers).
import fs from 'node:fs';
import https from 'node:https';
import crypto from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

if (process.argv[2] === 'genkey') {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: process.argv[3], alg: 'RS256', use: 'sig' };
  process.stdout.write(JSON.stringify({ keys: [jwk] }));
  process.exit(0);
}

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is required`);
  return process.env[k];
};
const vetted = env('VETTED_URL');
const resources = new Set([vetted, 'https://other-registry.example']);
const groups = { rita: ['security'], paul: ['release-engineers'] };

const provider = new Provider(env('ISSUER'), {
  jwks: JSON.parse(fs.readFileSync(env('JWKS_FILE'), 'utf8')),
  clients: [
    {
      client_id: 'ci-publisher', client_secret: env('CLIENT_SECRET'),
      grant_types: ['client_credentials'], response_types: [], redirect_uris: [],
    },
    {
      client_id: 'vetted-ui', client_secret: env('CLIENT_SECRET'),
      grant_types: ['authorization_code'], response_types: ['code'],
      redirect_uris: [`${vetted}/ui/oidc/callback`],
    },
  ],
  claims: {
    openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'], groups: ['groups'],
  },
  // Claims of the granted scopes go into the ID token, which is what the UI uses.
  conformIdTokenClaims: false,
  findAccount: (ctx, id) => ({
    accountId: id,
    claims: () => ({
      sub: id, email: `${id}@acme.example`, email_verified: true, name: id, preferred_username: id, groups: groups[id] || [],
    }),
  }),
  features: {
    devInteractions: { enabled: true }, // the built-in login (any password) and consent pages
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => false,
      getResourceServerInfo: (ctx, resource) => {
        if (!resources.has(resource)) throw new errors.InvalidTarget();
        return { scope: 'publish', audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt: { sign: { alg: 'RS256' } } };
      },
    },
  },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  ttl: { AccessToken: 600, ClientCredentials: 600, IdToken: 600 },
});
provider.proxy = false;

const server = https.createServer({ cert: fs.readFileSync(env('TLS_CERT')), key: fs.readFileSync(env('TLS_KEY')) }, provider.callback());
server.listen(Number(env('PORT')), '127.0.0.1', () => console.log(`oidc-provider ${env('ISSUER')} on 127.0.0.1:${env('PORT')}`));

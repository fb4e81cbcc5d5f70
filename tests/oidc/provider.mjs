// An OpenID Connect provider for the console's tests: panva/oidc-provider (OpenID Certified), on
// loopback, with its development login page (any password). It issues access tokens for the
// suite as JWTs (RFC 9068) through resource indicators: audience "govit", signed RS256, carrying
// the person's role, agency and jurisdiction from the accounts given.
//
//   node provider.mjs PORT REDIRECT_URI CLIENT_SECRET ACCOUNTS_JSON
//   ACCOUNTS_JSON: {"login": {"name": "...", "role": "applicant", "agency": "...", "jurisdiction": "xunyang"}}
import Provider from 'oidc-provider';

const [port, redirectUri, clientSecret, accountsJson] = process.argv.slice(2);
const accounts = JSON.parse(accountsJson);
const issuer = `http://127.0.0.1:${port}`;
const RESOURCE = 'urn:govit:api';

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'govit-console',
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  pkce: { required: () => true },
  claims: { openid: ['sub'], profile: ['name'] },
  findAccount: (ctx, id) => (accounts[id] ? {
    accountId: id,
    claims: () => ({ sub: id, name: accounts[id].name }),
  } : undefined),
  extraTokenClaims: (ctx, token) => {
    const account = accounts[token.accountId];
    if (!account) return {};
    const claims = { role: account.role, name: account.name, jurisdiction: account.jurisdiction };
    if (account.agency) claims.agency = account.agency;
    return claims;
  },
  features: {
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        if (resource !== RESOURCE) throw new Error(`unknown resource ${resource}`);
        return {
          scope: 'openid profile',
          audience: 'govit',
          accessTokenTTL: 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  loadExistingGrant: async (ctx) => {
    // first-party: the suite's own console is granted what it asks for, no consent page
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile');
    grant.addResourceScope(RESOURCE, 'openid profile');
    await grant.save();
    return grant;
  },
});

provider.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});

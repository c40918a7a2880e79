// A real OpenID Connect provider (the certified `oidc-provider` package) for the single sign-on tests.
// Usage: node identity_provider.mjs '<json>' with {client_id, client_secret, redirect_uris,
// post_logout_redirect_uris, id_token_ttl, accounts: {login: claims}}. It listens on a free loopback
// port and prints one line, {"issuer": ...}, when it is ready; it stops when its standard input closes.
import http from 'node:http';
import { Provider } from 'oidc-provider';

const options = JSON.parse(process.argv[2]);
const server = http.createServer();

server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: options.client_id,
      client_secret: options.client_secret,
      redirect_uris: options.redirect_uris,
      post_logout_redirect_uris: options.post_logout_redirect_uris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    // The static accounts: the login typed on the provider's page is the subject.
    async findAccount(ctx, sub) {
      const claims = options.accounts[sub];
      if (!claims) return undefined;
      return { accountId: sub, async claims() { return { sub, ...claims }; } };
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username', 'gol_roles', 'gol_zones'],
    },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    cookies: { keys: ['gol-workflow-test-provider'] },
    ttl: {
      IdToken: options.id_token_ttl,
      AccessToken: options.id_token_ttl,
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
  });
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

process.stdin.resume();
process.stdin.on('end', () => process.exit(0));

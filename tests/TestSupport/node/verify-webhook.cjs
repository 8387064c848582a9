// Verifies one webhook delivery with the Standard Webhooks reference library (npm standardwebhooks), as a merchant would.
// Usage: node verify-webhook.cjs < {"secret": "whsec_...", "headers": {"webhook-id": ..., "webhook-timestamp": ...,
// "webhook-signature": ...}, "body": "<raw body>"}. Prints the verified payload as JSON and exits 0, or prints why
// verification failed and exits 1. The library checks the timestamp against this machine's clock (5 minutes' tolerance).
'use strict';
const { Webhook } = require('standardwebhooks');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  input += chunk;
});
process.stdin.on('end', () => {
  const { secret, headers, body } = JSON.parse(input);
  try {
    const payload = new Webhook(secret).verify(body, headers);
    process.stdout.write(JSON.stringify(payload));
  } catch (error) {
    process.stdout.write(`${error.name}: ${error.message}`);
    process.exit(1);
  }
});

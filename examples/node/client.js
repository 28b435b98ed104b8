// Send one message to `linewall serve` and print the verdict (Node.js, @grpc/grpc-js).
//
// Usage: node client.js [ADDRESS] [TEXT]
// The service definition is loaded from proto/linewall/v1/linewall.proto at start-up.
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const address = process.argv[2] || '127.0.0.1:50051';
const text = process.argv[3] || 'card 4111 1111 1111 1111';
const def = protoLoader.loadSync('linewall/v1/linewall.proto', {
  includeDirs: [path.join(__dirname, '..', '..', 'proto')],
  keepCase: true,
  enums: String,
  defaults: true,
});
const v1 = grpc.loadPackageDefinition(def).linewall.v1;
const client = new v1.Linewall(address, grpc.credentials.createInsecure());
const message = { id: 'js-1', text, channel: 'CHANNEL_WHATSAPP', direction: 'DIRECTION_OUTBOUND' };
const deadline = new Date(Date.now() + 10000);
client.Evaluate({ message }, { deadline }, (err, res) => {
  if (err) {
    console.error(`error: ${err.code} ${err.details}`);
    process.exit(1);
  }
  const v = res.verdict;
  const action = v.action.replace('ACTION_', '').toLowerCase();
  console.log(`action=${action} id=${v.id} policy_version=${v.policy_version}`);
  for (const f of v.findings) {
    console.log(`finding detector=${f.detector} field=${f.field} span=${f.start}..${f.end} preview=${f.preview}`);
  }
  if (v.notice) console.log(`notice=${v.notice}`);
  client.close();
});

// verify-records.js reads `spare wallet records --json` output (one record
// per line) on stdin and prints, per record and signature, the address
// ethers recovers from the record's domain, types and message, with the
// digest ethers computes. It shares no code with Spare: it is the
// independent EIP-712 implementation the tests compare with. Run with
// NODE_PATH naming a node_modules that holds ethers (scripts/ethers.sh).
const { TypedDataEncoder, verifyTypedData } = require('ethers');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', () => {
  const lines = input.split('\n').filter((l) => l.trim() !== '');
  lines.forEach((line, i) => {
    const r = JSON.parse(line);
    const digest = TypedDataEncoder.hash(r.domain, r.types, r.message);
    for (const s of r.signatures) {
      let signer = '';
      let error = '';
      try {
        signer = verifyTypedData(r.domain, r.types, r.message, s.signature);
      } catch (e) {
        error = String(e.shortMessage || e.message);
      }
      console.log(JSON.stringify({ index: i, kind: r.kind, role: s.role, digest, signer, error }));
    }
  });
});

/* global console */
/**
 * oidc-provider prints "Unsupported runtime" once per module registry on Node 20 (it wants Node 22; the
 * README says why the portal runs on 20.19+). Jest loads it afresh in every test file, so the one line
 * would bury every real warning in the output: only that exact line is dropped here.
 */
const warn = console.warn;
console.warn = (...args) => {
  if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime')) return;
  warn(...args);
};

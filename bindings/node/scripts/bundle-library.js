// `npm pack` (prepack): copies libember.so.2 into lib/ so that the package carries its library.
// From EMBER_BUILD_DIR (a CMake build folder of Ember), else the repository's build/release.
'use strict';
const fs = require('fs');
const path = require('path');

const SONAME = 'libember.so.2';
const dirs = [process.env.EMBER_BUILD_DIR, path.join(__dirname, '..', '..', '..', 'build', 'release')].filter(Boolean);
const found = dirs.map((d) => path.join(d, SONAME)).find((p) => fs.existsSync(p));
if (!found) {
  console.error(`bundle-library: ${SONAME} not found in ${dirs.join(', ')}: build Ember first, or set EMBER_BUILD_DIR`);
  process.exit(1);
}
fs.mkdirSync(path.join(__dirname, '..', 'lib'), { recursive: true });
fs.copyFileSync(fs.realpathSync(found), path.join(__dirname, '..', 'lib', SONAME));
console.error(`bundle-library: ${found} -> lib/${SONAME}`);

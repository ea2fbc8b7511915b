// The relay's store goes through knex's "sqlite3" client, which require()s
// the module `sqlite3` and reads node-sqlite3's CommonJS shape off it:
// Database, Statement and the OPEN_* flags. sqlite3 5.1.7 must be compiled
// here (its prebuilt binaries come from outside the npm registry);
// @appthreat/sqlite3, a maintained rewrite of node-sqlite3, ships them in
// its npm tarball, but as an ES module whose flags sit on the default
// export. This file hands knex that default export.
//
// require() of an ES module needs Node.js 20.19 or later.
'use strict';

module.exports = require('@appthreat/sqlite3').default;

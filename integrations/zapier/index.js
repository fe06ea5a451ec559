'use strict';

const declarations = require('./declarations.json');
const authentication = require('./authentication');
const { addApiKey, handleErrors } = require('./lib/http');
const { trigger, create, search, dropdown, searchOrCreate, RECORDS } = require('./lib/build');

const byKey = (units) => Object.fromEntries(units.map((unit) => [unit.key, unit]));

module.exports = {
  version: require('./package.json').version,
  platformVersion: require('zapier-platform-core').version,
  authentication,
  beforeRequest: [addApiKey],
  afterResponse: [handleErrors],
  triggers: byKey([...declarations.triggers.map(trigger), ...[...declarations.options, ...RECORDS].map(dropdown)]),
  creates: byKey(declarations.actions.map(create)),
  searches: byKey(declarations.searches.map(search)),
  searchOrCreates: byKey([searchOrCreate('find_contact', 'update_contact', 'Find or Create Contact')]),
};

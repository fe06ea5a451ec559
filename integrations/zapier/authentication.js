'use strict';

// API key auth against the account's own Reengage server: the test is a cheap GET /v1/me,
// and the connection is labelled with the account's name (never the key).
module.exports = {
  type: 'custom',
  fields: [
    {
      key: 'base_url',
      label: 'Server URL',
      required: true,
      type: 'string',
      helpText: 'Where your Reengage server is reached, such as `https://reengage.example.com`.',
    },
    {
      key: 'api_key',
      label: 'API Key',
      required: true,
      type: 'password',
      helpText: 'An API key of the account (`flask accounts keys create ACCOUNT_ID`); it starts with `rk_`.',
    },
  ],
  test: {
    url: '{{bundle.authData.base_url}}/v1/me',
    method: 'GET',
  },
  connectionLabel: '{{json.name}}',
};

/** JSON Schemas of daystrom's own files: the settings file and the 0600 credentials file. */
const endpoint = {type: 'string', minLength: 1, maxLength: 2048, pattern: '^https?://'}

export const profileSettingsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    client_id: {type: 'string', minLength: 1, maxLength: 512},
    tsg_id: {type: 'string', minLength: 1, maxLength: 64},
    data_endpoint: endpoint,
    mgmt_endpoint: endpoint,
    token_endpoint: endpoint,
  },
}

export const settingsFileSchema = {
  $id: 'DaystromSettingsFile',
  type: 'object',
  additionalProperties: false,
  properties: {
    current_profile: {type: 'string', minLength: 1, maxLength: 64},
    profiles: {
      type: 'object',
      propertyNames: {pattern: '^[A-Za-z0-9_.-]{1,64}$'},
      additionalProperties: profileSettingsSchema,
    },
  },
}

export const credentialsFileSchema = {
  $id: 'DaystromCredentialsFile',
  type: 'object',
  additionalProperties: false,
  properties: {
    profiles: {
      type: 'object',
      propertyNames: {pattern: '^[A-Za-z0-9_.-]{1,64}$'},
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {client_secret: {type: 'string', minLength: 1, maxLength: 1024}},
      },
    },
  },
}

export const PROFILE_NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/

import type { MessageSchema } from './index'

const en: MessageSchema = {
  app: {
    title: 'Gridwork',
    tagline: 'The grid worker’s offline workbench',
  },
  home: {
    about: 'About this device',
    version: 'Version',
    loading: 'Loading…',
    language: 'Language',
  },
  language: {
    'zh-CN': '简体中文',
    en: 'English',
  },
  errors: {
    internal: 'Something went wrong inside the app. Please try again.',
    invalid_input: 'Some of the input is not valid.',
    not_found: 'Nothing was found.',
    unavailable: 'The app’s backend cannot be reached.',
    unknown: 'An unknown error occurred.',
  },
}

export default en

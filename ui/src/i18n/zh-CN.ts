// The source of truth for the UI's texts: Chinese first. `en.ts` must have
// exactly the same keys (the type checker and `i18n.test.ts` both hold it).
const zhCN = {
  app: {
    title: '网格通 Gridwork',
    tagline: '网格员的离线工作台',
  },
  home: {
    about: '关于本机',
    version: '版本',
    loading: '读取中…',
    language: '界面语言',
  },
  language: {
    'zh-CN': '简体中文',
    en: 'English',
  },
  errors: {
    // One text per stable error code from the backend (`ErrorCode` in
    // src-tauri/src/commands.rs), plus the front end's own.
    internal: '出现内部错误，请稍后重试',
    invalid_input: '输入的内容有误',
    not_found: '没有找到相关内容',
    unavailable: '无法连接到应用后台',
    unknown: '发生未知错误',
  },
}

export default zhCN

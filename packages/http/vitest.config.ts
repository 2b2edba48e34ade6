import { fileURLToPath } from "node:url"
import { project } from "../../vitest.shared.js"

export default project("http", { globalSetup: fileURLToPath(new URL("./test/postgres-notice.ts", import.meta.url)) })

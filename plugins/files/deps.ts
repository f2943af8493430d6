import type { CoreServices } from "../../core/mod.ts";
import type { FilesOptions } from "./options.ts";

/** What the files routes use: the SSH pool, the instances, the audit log, and the plugin's options. */
export interface FilesDeps {
  ssh: CoreServices["ssh"];
  instances: CoreServices["instances"];
  audit: CoreServices["audit"];
  opts: FilesOptions;
}

/** The release version, shown in /health, the OpenAPI document and `version`. */
export const VERSION = "0.1.0";

/**
 * The source type a model URI designates (reference §3.5 URI forms), or undefined when the URI alone cannot
 * tell (a custom https host: the service decides). One truth for the CLI's pre-flight check of `scans create`
 * and the sandbox's "source type mismatch" answer.
 */
import type {SourceType} from './enums.js'

export function sourceTypeOfUri(uri: string): SourceType | undefined {
  const u = uri.trim()
  if (/^s3:\/\//i.test(u) || /^https?:\/\/[^/]*\.?s3[.-][^/]*amazonaws\.com\//i.test(u)) return 'S3'
  if (/^gs:\/\//i.test(u) || /^https?:\/\/storage\.(?:cloud\.)?googleapis\.com\//i.test(u)) return 'GCS'
  if (/^(az|azure|abfss?|wasbs?):\/\//i.test(u) || /^https?:\/\/[^/]+\.blob\.core\.windows\.net\//i.test(u)) return 'AZURE'
  if (/^(?:https?:\/\/)?(?:www\.)?(?:huggingface\.co|hf\.co)\//i.test(u) || /^hf:\/\//i.test(u)) return 'HUGGING_FACE'
  if (/^https?:\/\/.*\/-\/ml\/models\//i.test(u)) return 'GITLAB'
  if (/^https?:\/\/[^/]*jfrog\.io\//i.test(u) || /^https?:\/\/.*\/artifactory\//i.test(u)) return 'ARTIFACTORY'
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(u) && !/^file:\/\//i.test(u)) return undefined
  return 'LOCAL'
}

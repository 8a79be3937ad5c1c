export {
  checkpointId,
  type DocumentMeta,
  decodeSource,
  documentId,
  type ElasticsearchTargetNames,
  elasticsearchTargetNames,
  encodeSource,
  LIVE_DOCUMENTS,
  MAX_ID_BYTES,
  META_FIELD,
  META_MAPPINGS,
} from './naming';
export {
  CHECKPOINT_MAPPINGS,
  createElasticsearchSink,
  dedupeWrites,
  type ElasticsearchProjectionDefinition,
  type ElasticsearchSink,
  type ElasticsearchSinkOptions,
  viewMappings,
} from './sink';

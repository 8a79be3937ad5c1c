export * from './contracts';
export * from './control';
export * from './dead-letters';
export * from './fold';
export * from './projector';
export * from './side-effects';
export * from './watermark-bus';

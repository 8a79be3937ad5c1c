export * from './admin.module';
export * from './app';
export * from './jobs';
export * from './options';
export * from './service';

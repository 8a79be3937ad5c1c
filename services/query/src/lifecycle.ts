import type { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Inject, Injectable } from '@nestjs/common';
// biome-ignore lint/style/useImportType: needed at runtime for Nest DI
import { ShadowReads } from './shadow';
import { WATERMARK_TRACKER } from './tokens';
// biome-ignore lint/style/useImportType: needed at runtime for Nest DI
import { ViewSinks } from './views';
import type { WatermarkTracker } from './watermark-tracker';

/**
 * Starts the watermark tracker before the app listens; on close stops it (waiting reads fail, retryable), lets the
 * shadow reads finish and reports their counts, then closes the sinks it created.
 */
@Injectable()
export class QueryLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(WATERMARK_TRACKER) private readonly tracker: WatermarkTracker,
    private readonly sinks: ViewSinks,
    private readonly shadow: ShadowReads,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.tracker.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.tracker.stop();
    await this.shadow.close();
    await this.sinks.close();
  }
}

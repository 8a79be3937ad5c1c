import { Controller, Get, Header, Res } from '@nestjs/common';
// biome-ignore lint/style/useImportType: needed at runtime for Nest DI
import { QueryMetrics } from '../metrics';
// biome-ignore lint/style/useImportType: needed at runtime for Nest DI
import { OpenApiDocument } from '../openapi';
import type { QueryResponse } from './request';

@Controller()
export class SystemController {
  constructor(
    private readonly metrics: QueryMetrics,
    private readonly openapi: OpenApiDocument,
  ) {}

  @Get('healthz')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('metrics')
  async metricsText(@Res({ passthrough: true }) response: QueryResponse): Promise<string> {
    response.header('Content-Type', this.metrics.contentType);
    return this.metrics.render();
  }

  @Get('openapi.json')
  @Header('Cache-Control', 'no-cache')
  document(): Record<string, unknown> {
    return this.openapi.document;
  }
}

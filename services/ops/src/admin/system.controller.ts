import { Controller, Get, Header, Res } from '@nestjs/common';
// biome-ignore lint/style/useImportType: needed at runtime for Nest DI
import { AdminMetrics } from './metrics';
import { ADMIN_OPENAPI } from './openapi';
import type { AdminResponse } from './request';

@Controller()
export class AdminSystemController {
  constructor(private readonly metrics: AdminMetrics) {}

  @Get('healthz')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('metrics')
  async metricsText(@Res({ passthrough: true }) response: AdminResponse): Promise<string> {
    response.setHeader('Content-Type', this.metrics.contentType);
    return this.metrics.render();
  }

  @Get('openapi.json')
  @Header('Cache-Control', 'no-cache')
  document(): Record<string, unknown> {
    return ADMIN_OPENAPI;
  }
}

import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { httpServiceProviders } from '@tidemark/http';
import type { Logger } from 'pino';
import { CommandService } from './http/command.service';
import { CommandsController } from './http/commands.controller';
import { SystemController } from './http/system.controller';
import { createGatewayLogger } from './logger';
import { GatewayMetrics } from './metrics';
import { OpenApiDocument } from './openapi';
import type { GatewayModuleAsyncOptions, GatewayOptions, ResolvedGatewayOptions } from './options';
import { resolveOptions } from './options';
import { COMMAND_TRANSPORT, GATEWAY_LOGGER, GATEWAY_OPTIONS, GATEWAY_OPTIONS_RESOLVED } from './tokens';

/** The command gateway's HTTP API. Its transport and options are injected through forRootAsync. */
@Module({})
export class GatewayModule {
  static forRootAsync(options: GatewayModuleAsyncOptions): DynamicModule {
    return {
      module: GatewayModule,
      imports: options.imports ?? [],
      controllers: [CommandsController, SystemController],
      providers: [
        { provide: GATEWAY_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
        {
          provide: GATEWAY_OPTIONS_RESOLVED,
          useFactory: (o: GatewayOptions) => resolveOptions(o),
          inject: [GATEWAY_OPTIONS],
        },
        {
          provide: COMMAND_TRANSPORT,
          useFactory: (o: GatewayOptions) => o.transport,
          inject: [GATEWAY_OPTIONS],
        },
        {
          provide: GATEWAY_LOGGER,
          useFactory: (o: GatewayOptions) => o.logger ?? createGatewayLogger(),
          inject: [GATEWAY_OPTIONS],
        },
        { provide: GatewayMetrics, useFactory: () => new GatewayMetrics() },
        // API keys, ScopeGuard and the exception filter (@tidemark/http); 413s name the body limit.
        ...httpServiceProviders({
          useFactory: (o: ResolvedGatewayOptions, logger: Logger) => ({
            apiKeys: o.apiKeys,
            logger,
            maxBodyBytes: o.maxBodyBytes,
          }),
          inject: [GATEWAY_OPTIONS_RESOLVED, GATEWAY_LOGGER],
        }),
        CommandService,
        OpenApiDocument,
      ],
      exports: [COMMAND_TRANSPORT, GATEWAY_OPTIONS_RESOLVED, GATEWAY_LOGGER, GatewayMetrics, CommandService],
    };
  }
}

import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ApiKeyAuthenticator, ScopeGuard } from './http/auth';
import { CommandService } from './http/command.service';
import { CommandsController } from './http/commands.controller';
import { GatewayExceptionFilter } from './http/exception-filter';
import { SystemController } from './http/system.controller';
import { createGatewayLogger } from './logger';
import { GatewayMetrics } from './metrics';
import { OpenApiDocument } from './openapi';
import type { GatewayModuleAsyncOptions, GatewayOptions } from './options';
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
        ApiKeyAuthenticator,
        ScopeGuard,
        CommandService,
        OpenApiDocument,
        { provide: APP_FILTER, useClass: GatewayExceptionFilter },
      ],
      exports: [COMMAND_TRANSPORT, GATEWAY_OPTIONS_RESOLVED, GATEWAY_LOGGER, GatewayMetrics, CommandService],
    };
  }
}

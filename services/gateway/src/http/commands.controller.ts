import { Body, Controller, Get, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { AuthenticatedRequest } from '@tidemark/http';
import { RequireScope, ScopeGuard } from '@tidemark/http';
import type { AcceptedAnswer } from './command.service';
// biome-ignore lint/style/useImportType: needed at runtime for Nest DI
import { CommandService } from './command.service';
import type { GatewayRequest, GatewayResponse } from './request';
import { header } from './request';

/** The scope a command route needs: `<action>:<context>` of its :context route parameter. */
const contextScope = (action: 'commands:write' | 'commands:read') => (request: AuthenticatedRequest) =>
  `${action}:${request.params?.context ?? ''}`;

@Controller('v1/contexts/:context/commands')
@UseGuards(ScopeGuard)
export class CommandsController {
  constructor(private readonly commands: CommandService) {}

  @Post()
  @HttpCode(200)
  @RequireScope(contextScope('commands:write'))
  async submit(
    @Param('context') context: string,
    @Body() body: unknown,
    @Req() request: GatewayRequest,
    @Res({ passthrough: true }) response: GatewayResponse,
  ): Promise<AcceptedAnswer> {
    const answer = await this.commands.submit({
      context,
      body,
      idempotencyKey: header(request, 'idempotency-key'),
      correlationId: header(request, 'correlation-id'),
      causationId: header(request, 'causation-id'),
      principal: request.principal?.id,
    });
    response.header('Consistency-Token', answer.token);
    return answer;
  }

  @Get(':commandId')
  @RequireScope(contextScope('commands:read'))
  find(
    @Param('context') context: string,
    @Param('commandId') commandId: string,
    @Res({ passthrough: true }) response: GatewayResponse,
  ): AcceptedAnswer {
    const answer = this.commands.lookup(context, commandId);
    response.header('Consistency-Token', answer.token);
    return answer;
  }
}

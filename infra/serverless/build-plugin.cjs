'use strict';
// Runs right before `serverless package`, `serverless deploy` and `serverless deploy function` package anything:
// 1. checks every deployment parameter (lib/config.ts checkDeployParameters, through check-params.ts) and stops with
//    one line per bad parameter, so CloudFormation is never touched with a value the functions would refuse;
// 2. prints the stage, region and parameters used;
// 3. builds the Lambda bundles (infra/build.ts) into dist/.
// A local plugin keeps osls and Serverless Framework v4 on the same steps: v4's own esbuild only runs for handlers
// that point at .ts files, and these point at the bundles.
const { execFileSync, spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const tsx = () => require.resolve('tsx/cli', { paths: [root] });

class BuildPlugin {
  constructor(serverless, options, logging) {
    this.serverless = serverless;
    this.options = options ?? {};
    this.log = logging?.log ?? { notice: (message) => console.log(message) };
    const prepare = () => {
      this.checkParameters();
      this.build();
    };
    this.hooks = {
      'before:package:initialize': () => this.checkParameters(),
      'before:package:createDeploymentArtifacts': () => this.build(),
      'before:deploy:function:packageFunction': prepare,
    };
  }

  /** `custom.deployParameters` of serverless.yml, as the framework resolved them (defaults, stage, --param). */
  parameters() {
    const resolved = this.serverless.service.custom?.deployParameters ?? {};
    const params = {};
    for (const [name, value] of Object.entries(resolved)) params[name] = value == null ? '' : String(value);
    // A --param the stack does not declare is a typo that would silently do nothing: pass it on to be reported.
    for (const item of [].concat(this.options.param ?? [])) {
      const name = String(item).split('=')[0];
      if (name !== '' && !(name in params)) params[name] = String(item).slice(name.length + 1);
    }
    return params;
  }

  checkParameters() {
    if (this.checked) return;
    const params = this.parameters();
    const check = spawnSync(
      process.execPath,
      [tsx(), path.join(root, 'infra', 'serverless', 'check-params.ts')],
      {
        cwd: root,
        input: JSON.stringify(params),
        encoding: 'utf8',
      },
    );
    if (check.status !== 0) {
      const problems = (check.stdout || check.stderr || 'the parameter check failed').trim();
      const ServerlessError = this.serverless.classes?.Error ?? Error;
      throw new ServerlessError(
        `Deployment parameters refused (nothing was packaged or deployed):\n${problems}`,
      );
    }
    this.checked = true;
    const provider = this.serverless.getProvider('aws');
    this.log.notice(`Stage ${provider.getStage()}, region ${provider.getRegion()}, parameters:`);
    for (const [name, value] of Object.entries(params)) this.log.notice(`  ${name}=${value}`);
  }

  build() {
    const output = execFileSync(
      process.execPath,
      [tsx(), path.join(root, 'infra', 'build.ts'), '--functions'],
      {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    for (const line of output.trim().split('\n')) this.log.notice(line);
  }
}

module.exports = BuildPlugin;

'use strict';
// Builds the Lambda bundles (infra/build.ts) right before `serverless package`, `serverless deploy` and
// `serverless deploy function` zip dist/. A local plugin keeps osls and Serverless Framework v4 on the same build:
// v4's own esbuild only runs for handlers that point at .ts files, and these point at the bundles.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

class BuildPlugin {
  constructor(serverless, _options, logging) {
    this.serverless = serverless;
    this.log = logging?.log ?? { notice: (message) => console.log(message) };
    const build = () => this.build();
    this.hooks = {
      'before:package:createDeploymentArtifacts': build,
      'before:deploy:function:packageFunction': build,
    };
  }

  build() {
    const root = path.resolve(__dirname, '..', '..');
    const output = execFileSync(
      process.execPath,
      [require.resolve('tsx/cli', { paths: [root] }), path.join(root, 'infra', 'build.ts'), '--functions'],
      { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    for (const line of output.trim().split('\n')) this.log.notice(line);
  }
}

module.exports = BuildPlugin;

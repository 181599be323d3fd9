import * as path from 'node:path';
import { IgnoreMode } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import { Construct } from 'constructs';

/** The repository root: the Dockerfile's build context. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/**
 * What the Dockerfile copies into the image, and so all of the build context that matters. The asset sends
 * only these to `docker build` and hashes only these, which keeps synthesis fast (no node_modules, no .git),
 * keeps cdk.out and the whole infra-cdk directory out of the image, and means that a README edit does not
 * roll the fleet. A test reads the Dockerfile's COPY lines and fails if one is missing here.
 */
export const IMAGE_CONTEXT = [
  'Dockerfile',
  '.dockerignore',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'scripts',
  'app',
  'attack',
] as const;

export interface ServiceImageProps {
  readonly architecture: ec2.InstanceArchitecture;
}

/** The service's container image, built from the repository's Dockerfile by `cdk deploy` and pushed to ECR. */
export class ServiceImage extends Construct {
  public readonly asset: ecrAssets.DockerImageAsset;

  constructor(scope: Construct, id: string, props: ServiceImageProps) {
    super(scope, id);
    this.asset = new ecrAssets.DockerImageAsset(this, 'Image', {
      directory: REPO_ROOT,
      ignoreMode: IgnoreMode.DOCKER,
      // Docker ignore syntax: exclude everything, then let back only what the image is built from. Tests
      // again, after the directories that hold them are let back (CDK reads .dockerignore's lines first).
      exclude: [
        '*',
        ...IMAGE_CONTEXT.map((entry) => `!${entry}`),
        '**/node_modules',
        '**/cdk.out',
        '**/*.test.ts',
      ],
      platform:
        props.architecture === ec2.InstanceArchitecture.ARM_64
          ? ecrAssets.Platform.LINUX_ARM64
          : ecrAssets.Platform.LINUX_AMD64,
    });
  }
}

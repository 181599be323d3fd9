#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FlashSaleStack } from '../lib/flash-sale-stack';

const app = new App();
new FlashSaleStack(app, 'FlashSale', {
  description:
    'Flash-sale inventory service: ALB, Auto Scaling Group, ElastiCache for Redis, RDS for PostgreSQL',
});
// Any unacknowledged AwsSolutions finding stops synthesis (and so deployment).
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));

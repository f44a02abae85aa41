"""Writes a large AWS account in the shape the AWS CLI prints it.

`aws iam get-account-authorization-details` (policies decoded, as the CLI
prints them) and `aws iam generate-credential-report` /
`get-credential-report`'s CSV, for one account with ROLES roles, so that
the cloud importer and the peer tools that read the same file are timed
on the same input. Deterministic for a given seed.

The mix follows what large accounts hold:
- roles: 45 % trusted by an AWS service (Lambda, EC2, ECS tasks, Glue),
  25 % by an EKS service account through the cluster's OIDC provider
  (IRSA), 20 % by another role of the account (a chain), 5 % by a
  partner account's root, 5 % service-linked (skipped by importers);
- each role has one or two inline policies and one to three attached
  managed policies; 1 in 200 carries AdministratorAccess;
- customer-managed policies: one per ten roles, with two versions of
  which only the default counts;
- users: one per twenty roles, in groups, half with an access key.

    python3 bench/gen_aws_estate.py OUT_DIR ROLES [SEED]
"""

import csv
import json
import random
import sys

ACCOUNT = "123456789012"
PARTNER = "210987654321"
OIDC = "oidc.eks.eu-west-1.amazonaws.com/id/BENCHD539D4633E53DE1B71EXAMPLE"
SERVICES = ["lambda.amazonaws.com", "ec2.amazonaws.com", "ecs-tasks.amazonaws.com", "glue.amazonaws.com"]
ACTIONS = [
    "s3:GetObject", "s3:PutObject", "s3:ListBucket", "dynamodb:GetItem", "dynamodb:PutItem",
    "dynamodb:Query", "sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage",
    "sns:Publish", "kms:Decrypt", "kms:GenerateDataKey", "secretsmanager:GetSecretValue",
    "logs:CreateLogStream", "logs:PutLogEvents", "ec2:DescribeInstances", "ecr:GetAuthorizationToken",
    "ecr:BatchGetImage", "cloudwatch:PutMetricData", "ssm:GetParameter",
]
AWS_MANAGED = {
    "AdministratorAccess": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    "ReadOnlyAccess": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*", "ec2:Describe*", "iam:Get*", "iam:List*"], "Resource": "*"}],
    "AmazonS3ReadOnlyAccess": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}],
    "CloudWatchAgentServerPolicy": [{"Effect": "Allow", "Action": ["cloudwatch:PutMetricData", "logs:PutLogEvents", "logs:CreateLogStream"], "Resource": "*"}],
    "AWSLambdaBasicExecutionRole": [{"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}],
}


def doc(statements):
    return {"Version": "2012-10-17", "Statement": statements}


def statements(rng, n):
    out = []
    for _ in range(n):
        acts = rng.sample(ACTIONS, rng.randint(1, 4))
        out.append({
            "Effect": "Allow",
            "Action": acts if len(acts) > 1 else acts[0],
            "Resource": f"arn:aws:s3:::bench-{rng.randint(0, 999):03d}/*" if rng.random() < 0.5 else "*",
        })
    return out


def day(rng, start_year=2022):
    return f"{rng.randint(start_year, 2026)}-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}"


def main():
    out, roles, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 42
    rng = random.Random(seed)

    policies = []
    for name, stmts in AWS_MANAGED.items():
        policies.append({
            "PolicyName": name, "PolicyId": f"ANPAAWS{name.upper()[:12]}", "Arn": f"arn:aws:iam::aws:policy/{name}",
            "Path": "/", "DefaultVersionId": "v1", "AttachmentCount": 0, "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": True, "CreateDate": "2015-02-06T18:39:46Z", "UpdateDate": "2015-02-06T18:39:46Z",
            "PolicyVersionList": [{"Document": doc(stmts), "VersionId": "v1", "IsDefaultVersion": True, "CreateDate": "2015-02-06T18:39:46Z"}],
        })
    customer = []
    for p in range(max(1, roles // 10)):
        arn = f"arn:aws:iam::{ACCOUNT}:policy/bench-policy-{p:05d}"
        customer.append(arn)
        policies.append({
            "PolicyName": f"bench-policy-{p:05d}", "PolicyId": f"ANPABENCH{p:08d}", "Arn": arn, "Path": "/",
            "DefaultVersionId": "v2", "AttachmentCount": 10, "PermissionsBoundaryUsageCount": 0, "IsAttachable": True,
            "CreateDate": f"{day(rng)}T08:00:00Z", "UpdateDate": f"{day(rng)}T08:00:00Z",
            "PolicyVersionList": [
                {"Document": doc(statements(rng, rng.randint(2, 6))), "VersionId": "v2", "IsDefaultVersion": True, "CreateDate": "2024-02-01T10:00:00Z"},
                {"Document": doc(statements(rng, 2)), "VersionId": "v1", "IsDefaultVersion": False, "CreateDate": "2023-01-01T10:00:00Z"},
            ],
        })

    role_list = []
    for r in range(roles):
        name = f"bench-role-{r:05d}"
        kind = rng.random()
        path = "/"
        if kind < 0.45:
            trust = [{"Effect": "Allow", "Principal": {"Service": rng.choice(SERVICES)}, "Action": "sts:AssumeRole"}]
        elif kind < 0.70:
            ns, sa = f"team-{r % 200:03d}", f"app-{r:05d}"
            trust = [{
                "Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{OIDC}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{OIDC}:sub": f"system:serviceaccount:{ns}:{sa}", f"{OIDC}:aud": "sts.amazonaws.com"}},
            }]
        elif kind < 0.90 and r > 0:
            trust = [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/bench-role-{rng.randrange(r):05d}"}, "Action": "sts:AssumeRole"}]
        elif kind < 0.95:
            trust = [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"}, "Action": "sts:AssumeRole",
                      "Condition": {"StringEquals": {"sts:ExternalId": f"bench-{r}"}}}]
        else:
            path = "/aws-service-role/"
            name = f"AWSServiceRoleForBench{r:05d}"
            trust = [{"Effect": "Allow", "Principal": {"Service": "autoscaling.amazonaws.com"}, "Action": "sts:AssumeRole"}]
        attached = [{"PolicyName": a.rsplit("/", 1)[1], "PolicyArn": a} for a in rng.sample(customer, min(len(customer), rng.randint(1, 3)))]
        if r % 200 == 7:
            attached.append({"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})
        elif r % 3 == 0:
            m = rng.choice(["ReadOnlyAccess", "AmazonS3ReadOnlyAccess", "CloudWatchAgentServerPolicy", "AWSLambdaBasicExecutionRole"])
            attached.append({"PolicyName": m, "PolicyArn": f"arn:aws:iam::aws:policy/{m}"})
        role = {
            "Path": path, "RoleName": name, "RoleId": f"AROABENCH{r:012d}", "Arn": f"arn:aws:iam::{ACCOUNT}:role{path}{name}",
            "CreateDate": f"{day(rng)}T08:00:00Z", "AssumeRolePolicyDocument": doc(trust), "InstanceProfileList": [],
            "RolePolicyList": [{"PolicyName": f"inline-{i}", "PolicyDocument": doc(statements(rng, rng.randint(1, 4)))} for i in range(rng.randint(1, 2))],
            "AttachedManagedPolicies": attached,
            "Tags": [{"Key": "countersign.dev/owner", "Value": f"team-{r % 200:03d}"}, {"Key": "environment", "Value": rng.choice(["prod", "staging", "dev"])}],
            "RoleLastUsed": {"LastUsedDate": f"{day(rng, 2025)}T12:00:00Z", "Region": "eu-west-1"} if rng.random() < 0.8 else {},
        }
        role_list.append(role)

    groups = []
    for g in range(50):
        groups.append({
            "Path": "/", "GroupName": f"bench-group-{g:02d}", "GroupId": f"AGPABENCH{g:012d}", "Arn": f"arn:aws:iam::{ACCOUNT}:group/bench-group-{g:02d}",
            "CreateDate": "2022-01-01T00:00:00Z", "GroupPolicyList": [{"PolicyName": "inline", "PolicyDocument": doc(statements(rng, 2))}],
            "AttachedManagedPolicies": [{"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}] if g % 5 == 0 else [],
        })
    users, report = [], []
    for u in range(max(1, roles // 20)):
        name = f"bench-user-{u:04d}"
        arn = f"arn:aws:iam::{ACCOUNT}:user/{name}"
        created = f"{day(rng)}T09:00:00+00:00"
        users.append({
            "Path": "/", "UserName": name, "UserId": f"AIDABENCH{u:012d}", "Arn": arn, "CreateDate": created.replace("+00:00", "Z"),
            "UserPolicyList": [], "GroupList": [f"bench-group-{rng.randrange(50):02d}"], "AttachedManagedPolicies": [],
            "Tags": [{"Key": "countersign.dev/owner", "Value": f"team-{u % 200:03d}"}],
        })
        has_key = u % 2 == 0
        report.append({
            "user": name, "arn": arn, "user_creation_time": created, "password_enabled": "false",
            "password_last_used": "N/A", "password_last_changed": "N/A", "password_next_rotation": "N/A", "mfa_active": "false",
            "access_key_1_active": "true" if has_key else "false",
            "access_key_1_last_rotated": f"{day(rng)}T09:00:00+00:00" if has_key else "N/A",
            "access_key_1_last_used_date": f"{day(rng, 2025)}T10:00:00+00:00" if has_key and rng.random() < 0.7 else "N/A",
            "access_key_1_last_used_region": "eu-west-1" if has_key else "N/A",
            "access_key_1_last_used_service": "s3" if has_key else "N/A",
            "access_key_2_active": "false", "access_key_2_last_rotated": "N/A", "access_key_2_last_used_date": "N/A",
            "access_key_2_last_used_region": "N/A", "access_key_2_last_used_service": "N/A",
            "cert_1_active": "false", "cert_1_last_rotated": "N/A", "cert_2_active": "false", "cert_2_last_rotated": "N/A",
        })

    details = {"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": role_list, "Policies": policies, "IsTruncated": False}
    with open(f"{out}/authorization-details.json", "w") as f:
        json.dump(details, f, indent=4)
    with open(f"{out}/credential-report.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(report[0].keys()), lineterminator="\n")
        w.writeheader()
        w.writerows(report)


main()
